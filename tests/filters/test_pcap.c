#include <criterion/criterion.h>
#include "harness.h"
