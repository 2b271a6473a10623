/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bad configs for the JSON config reader (lib/cfg). They live in one table;
 * each entry names the case, the JSON, a line the diagnostics must hold (JSON
 * path first, then what was expected), and optionally the exact problem count.
 * JSON in the table is written with single quotes to stay readable; dq()
 * turns them into double quotes. Then configs too long to write out, and
 * several problems at once.
 */
#include "cfg_test.h"

/* ---- the bad configs ---------------------------------------------------- */


#define G_GEN  "{'lcores':[1],'pipeline':'gen'}"
#define G_GEN4 G_GEN "," G_GEN "," G_GEN "," G_GEN

static const struct bad bad_cases[] = {
	/* Not JSON, or not an object. */
	{ "json_truncated", "{'ports': [",
	  "$: not valid JSON (line 1, col ", { "the text ends before the JSON does" }, NULL, 1 },
	{ "json_empty_text", "",
	  "$: not valid JSON (line 1, col 1)", { "the text ends" }, NULL, 1 },
	/* Where cJSON fails inside a string (a key was expected) it reports the
	 * character after the culprit: col 17 for the second ',' at col 16. */
	{ "json_double_comma", "{'ports': [ ] ,,\n}",
	  "$: not valid JSON (line 1, col 1", { 0 }, "the text ends", 1 },
	/* A comma after the last member: named, at the comma (cJSON's position for it is
	 * past the bracket, and the reader said "the text ends before the JSON does"). */
	{ "json_trailing_comma_object", "{'instance': 'x',\n 'burst': 32,\n}\n",
	  "$: not valid JSON (line 2, col 13): a comma after the last member of an object or "
	  "array (JSON allows none)", { 0 }, "the text ends", 1 },
	{ "json_trailing_comma_array", "{'ports': [ 1, 2, ] }",
	  "$: not valid JSON (line 1, col 17): a comma after the last member", { 0 }, NULL, 1 },
	{ "json_comma_in_a_string_is_not_one", "{'instance': 'a,}'",
	  "$: not valid JSON (line 1, col ", { "the text ends before the JSON does" }, "comma", 1 },
	{ "json_line_and_col", "{\n 'instance': 'x',\n 'burst': 32 32\n}",
	  "$: not valid JSON (line 3, col 14)", { 0 }, NULL, 1 },
	{ "json_comment", "{ // a comment\n" GOOD "}",
	  "$: not valid JSON (line 1, col ", { 0 }, "the text ends", 1 },
	{ "json_single_quotes", "{ \\u0027ports\\u0027: 1 }",
	  "$: not valid JSON (line 1, col ", { 0 }, "the text ends", 1 },
	{ "root_array", "[" PORT_A "]", "$: must be an object, got an array", { 0 }, NULL, 1 },
	{ "root_string", "'ports'", "$: must be an object, got a string", { 0 }, NULL, 1 },
	{ "root_number", "42", "$: must be an object, got a number", { 0 }, NULL, 1 },
	{ "root_null", "null", "$: must be an object, got null", { 0 }, NULL, 1 },
	{ "root_bool", "true", "$: must be an object, got a boolean", { 0 }, NULL, 1 },
	/* config/beltline.schema.json given as a config: said once, not key by key. */
	{ "root_is_the_schema", "{'$schema':'https://json-schema.org/draft/2020-12/schema',"
	  "'type':'object','properties':{}}",
	  "$: a JSON Schema (it describes configs for editors; it is not one)",
	  { "config/default.json" }, "unknown key", 1 },

	/* Unknown keys, everywhere keys live. */
	{ "unknown_top_with_suggestion", "{'burts':32," GOOD "}",
	  "burts: unknown key (did you mean \"burst\"?)", { 0 }, NULL, 1 },
	{ "unknown_top_no_suggestion", "{'colour':'blue'," GOOD "}",
	  "colour: unknown key", { 0 }, "did you mean", 1 },
	{ "unknown_top_case", "{'Ports':[]," GOOD "}",
	  "Ports: unknown key (did you mean \"ports\"?)", { 0 }, NULL, 1 },
	{ "unknown_memory", "{'memory':{'hugepage':'no'}," GOOD "}",
	  "memory.hugepage: unknown key (did you mean \"hugepages\"?)", { 0 }, NULL, 1 },
	{ "unknown_memory_no_suggestion", "{'memory':{'numa':0}," GOOD "}",
	  "memory.numa: unknown key", { 0 }, "did you mean", 1 },
	{ "unknown_mbufs", "{'mbufs':{'cout':8191}," GOOD "}",
	  "mbufs.cout: unknown key (did you mean \"count\"?)", { 0 }, NULL, 1 },
	{ "unknown_port", SECOND_PORT("{'name':'b','vdev':'net_null1','tx_dsc':512}"),
	  "ports[1].tx_dsc: unknown key (did you mean \"tx_desc\"?)", { 0 }, NULL, 1 },
	{ "unknown_port_no_suggestion", ONE_PORT("{'name':'a','vdev':'net_null0','speed':10000}"),
	  "ports[0].speed: unknown key", { 0 }, "did you mean", 1 },
	{ "unknown_worker", "{" PORTS_A ",'workers':[{'lcores':1,'lcore':1,'poll':[" POLL_A "]}]}",
	  "workers[0].lcores: unknown key (did you mean \"lcore\"?)", { 0 }, NULL, 1 },
	{ "unknown_poll", ONE_POLL("{'port':'a','queue':0,'tx':'b'},{'port':'b','queu':0,'tx':'a'}"),
	  "workers[0].poll[1].queu: unknown key (did you mean \"queue\"?)", { 0 }, NULL, 1 },

	/* Keys given twice. */
	{ "twice_top", "{'burst':32,'burst':64," GOOD "}", "burst: given twice", { 0 }, NULL, 1 },
	{ "twice_port", ONE_PORT("{'name':'a','name':'b','vdev':'net_null0'}"),
	  "ports[0].name: given twice", { 0 }, NULL, 1 },
	{ "twice_mbufs", "{'mbufs':{'cache':128,'cache':256}," GOOD "}",
	  "mbufs.cache: given twice", { 0 }, NULL, 1 },
	{ "twice_poll", ONE_POLL("{'port':'a','queue':0,'tx':'b','tx':'a'}"),
	  "workers[0].poll[0].tx: given twice", { 0 }, NULL, 1 },
	/* lcore_cpu's keys are lcore numbers: the same lcore twice, however written. */
	{ "twice_lcore_cpu", "{'lcore_cpu':{'1':0,'1':1}," GOOD "}",
	  "lcore_cpu.1: given twice", { 0 }, NULL, 1 },
	{ "twice_lcore_cpu_spelt_apart", "{'lcore_cpu':{'1':0,'01':1}," GOOD "}",
	  "lcore_cpu.01: lcore 1 given twice (also lcore_cpu.1)", { 0 }, NULL, 1 },
	{ "lcore_cpu_bad_key_is_no_lcore_0", "{'lcore_cpu':{'x':0,'0':0}," GOOD "}",
	  "lcore_cpu.x: the key must be an lcore", { 0 }, "given twice", 1 },

	/* A NUL (\u0000) in a string: cJSON would cut the string there. */
	{ "nul_in_instance", "{'instance':'rel\\u0000x'," GOOD "}",
	  "instance: contains a NUL character (\\u0000)", { 0 }, NULL, 1 },
	{ "nul_in_nested_string", ONE_PORT("{'name':'a','vdev':'net_null0\\u0000,x=1'}"),
	  "ports[0].vdev: contains a NUL character (\\u0000)", { 0 }, NULL, 1 },
	{ "nul_in_pipeline", "{" PORTS_A ",'graphs':[{'lcores':[1],'pipeline':"
	  "['rx port=a | tx port=a', 'rx port=a\\u0000 | drop']}]}",
	  "graphs[0].pipeline[1]: contains a NUL character (\\u0000)", { 0 }, NULL, 1 },
	{ "nul_in_key", "{'bu\\u0000rst':32," GOOD "}",
	  "$: a key contains a NUL character (\\u0000)", { 0 }, NULL, 1 },
	{ "nul_in_lcore_cpu_key", "{'lcore_cpu':{'1\\u0000':0}," GOOD "}",
	  "lcore_cpu: a key contains a NUL character (\\u0000)", { 0 }, NULL, 1 },

	/* Wrong types. */
	{ "type_string_for_number", "{'burst':'32'," GOOD "}",
	  "burst: must be an integer 1..256, got a string", { 0 }, NULL, 1 },
	{ "type_float_for_integer", ONE_PORT("{'name':'a','vdev':'net_null0','rx_queues':1.5}"),
	  "ports[0].rx_queues: must be an integer 1..64, got 1.5", { 0 }, NULL, 1 },
	{ "type_bool_for_number", "{'main_lcore':false," GOOD "}",
	  "main_lcore: must be an integer 0..127, got a boolean", { 0 }, NULL, 1 },
	{ "type_null_for_number", "{'mbufs':{'count':null}," GOOD "}",
	  "mbufs.count: must be an integer 1024..67108864, got null", { 0 }, NULL, 1 },
	{ "type_infinite_number", "{'mbufs':{'count':1e400}," GOOD "}",
	  "mbufs.count: must be an integer 1024..67108864, got inf", { 0 }, NULL, 1 },
	{ "type_array_for_object", "{'memory':['no']," GOOD "}",
	  "memory: must be an object, got an array", { 0 }, NULL, 1 },
	{ "type_null_for_object", "{'mbufs':null," GOOD "}",
	  "mbufs: must be an object, got null", { 0 }, NULL, 1 },
	{ "type_number_for_string", "{'instance':7," GOOD "}",
	  "instance: must be a string, got a number", { 0 }, NULL, 1 },
	{ "type_null_for_string", ONE_PORT("{'name':null,'vdev':'net_null0'}"),
	  "ports[0].name: must be a string, got null", { 0 }, NULL, 0 },
	{ "type_bool_hugepages", "{'memory':{'hugepages':true}," GOOD "}",
	  "memory.hugepages: must be a string, got a boolean", { 0 }, NULL, 1 },
	{ "type_port_not_object", "{'ports':[" PORT_A ",['b']]," WORKERS_A "}",
	  "ports[1]: must be an object, got an array", { 0 }, NULL, 1 },
	{ "type_worker_not_object", "{" PORTS_A ",'workers':['lcore 1']}",
	  "workers[0]: must be an object, got a string", { 0 }, NULL, 1 },
	{ "type_poll_not_array", ONE_WORKER("{'lcore':1,'poll':" POLL_A "}"),
	  "workers[0].poll: must be a non-empty array, got an object", { 0 }, NULL, 1 },
	{ "type_poll_entry_not_object", ONE_POLL(POLL_A ",3"),
	  "workers[0].poll[1]: must be an object, got a number", { 0 }, NULL, 1 },
	{ "type_queue_string", ONE_POLL("{'port':'a','queue':'0','tx':'b'}"),
	  "workers[0].poll[0].queue: must be an integer 0..63, got a string", { 0 }, NULL, 1 },
	{ "type_tx_number", ONE_POLL("{'port':'a','queue':0,'tx':1}"),
	  "workers[0].poll[0].tx: must be a string, got a number", { 0 }, NULL, 1 },
	{ "type_vdev_number", ONE_PORT("{'name':'a','vdev':0}"),
	  "ports[0].vdev: must be a string, got a number", { 0 }, NULL, 1 },

	/* Ranges. */
	{ "rx_queues_0", SECOND_PORT("{'name':'b','vdev':'net_null1','rx_queues':0}"),
	  "ports[1].rx_queues: must be 1..64, got 0", { 0 }, NULL, 1 },
	{ "rx_queues_65", SECOND_PORT("{'name':'b','vdev':'net_null1','rx_queues':65}"),
	  "ports[1].rx_queues: must be 1..64, got 65", { 0 }, NULL, 1 },
	{ "rx_queues_negative", ONE_PORT("{'name':'a','vdev':'net_null0','rx_queues':-1}"),
	  "ports[0].rx_queues: must be 1..64, got -1", { 0 }, NULL, 1 },
	{ "tx_queues_0", ONE_PORT("{'name':'a','vdev':'net_null0','tx_queues':0}"),
	  "ports[0].tx_queues: must be 1..64, got 0", { 0 }, NULL, 1 },
	{ "tx_queues_65", ONE_PORT("{'name':'a','vdev':'net_null0','tx_queues':65}"),
	  "ports[0].tx_queues: must be 1..64, got 65", { 0 }, NULL, 1 },
	{ "tx_queues_huge", ONE_PORT("{'name':'a','vdev':'net_null0','tx_queues':1e20}"),
	  "ports[0].tx_queues: must be 1..64, got 100000000000000000000", { 0 }, NULL, 1 },
	{ "rx_desc_not_power_of_two", ONE_PORT("{'name':'a','vdev':'net_null0','rx_desc':1000}"),
	  "ports[0].rx_desc: must be a power of two 32..16384, got 1000", { 0 }, NULL, 1 },
	{ "rx_desc_too_small", ONE_PORT("{'name':'a','vdev':'net_null0','rx_desc':16}"),
	  "ports[0].rx_desc: must be 32..16384, got 16", { 0 }, NULL, 1 },
	{ "rx_desc_too_large", ONE_PORT("{'name':'a','vdev':'net_null0','rx_desc':32768}"),
	  "ports[0].rx_desc: must be 32..16384, got 32768", { 0 }, NULL, 1 },
	{ "tx_desc_not_power_of_two", ONE_PORT("{'name':'a','vdev':'net_null0','tx_desc':96}"),
	  "ports[0].tx_desc: must be a power of two 32..16384, got 96", { 0 }, NULL, 1 },
	{ "tx_desc_0", ONE_PORT("{'name':'a','vdev':'net_null0','tx_desc':0}"),
	  "ports[0].tx_desc: must be 32..16384, got 0", { 0 }, NULL, 1 },
	{ "burst_0", "{'burst':0," GOOD "}", "burst: must be 1..256, got 0", { 0 }, NULL, 1 },
	{ "burst_257", "{'burst':257," GOOD "}", "burst: must be 1..256, got 257", { 0 }, NULL, 1 },
	{ "main_lcore_128", "{'main_lcore':128," GOOD "}",
	  "main_lcore: must be 0..127, got 128", { 0 }, NULL, 1 },
	{ "main_lcore_negative", "{'main_lcore':-1," GOOD "}",
	  "main_lcore: must be 0..127, got -1", { 0 }, NULL, 1 },
	{ "worker_lcore_128", ONE_WORKER("{'lcore':128,'poll':[" POLL_A "]}"),
	  "workers[0].lcore: must be 0..127, got 128", { 0 }, NULL, 1 },
	{ "queue_64", ONE_POLL("{'port':'a','queue':64,'tx':'b'}"),
	  "workers[0].poll[0].queue: must be 0..63, got 64", { 0 }, NULL, 1 },
	{ "mbufs_count_1023", "{'mbufs':{'count':1023}," GOOD "}",
	  "mbufs.count: must be 1024..67108864, got 1023", { 0 }, NULL, 1 },
	{ "mbufs_count_too_large", "{'mbufs':{'count':67108865}," GOOD "}",
	  "mbufs.count: must be 1024..67108864, got 67108865", { 0 }, NULL, 1 },
	{ "mbufs_cache_513", "{'mbufs':{'cache':513}," GOOD "}",
	  "mbufs.cache: must be 0..512, got 513", { 0 }, NULL, 1 },
	{ "mbufs_data_room_383", "{'mbufs':{'data_room':383}," GOOD "}",
	  "mbufs.data_room: must be 384..65535, got 383", { 0 }, NULL, 1 },
	{ "mbufs_data_room_65536", "{'mbufs':{'data_room':65536}," GOOD "}",
	  "mbufs.data_room: must be 384..65535, got 65536", { 0 }, NULL, 1 },
	{ "memory_size_mb_15", "{'memory':{'size_mb':15}," GOOD "}",
	  "memory.size_mb: must be 16..65536, got 15", { 0 }, NULL, 1 },
	{ "memory_size_mb_too_large", "{'memory':{'size_mb':65537}," GOOD "}",
	  "memory.size_mb: must be 16..65536, got 65537", { 0 }, NULL, 1 },
	{ "control_not_object", "{'control':'0660'," GOOD "}",
	  "control: must be an object", { 0 }, NULL, 1 },
	{ "control_mode_number", "{'control':{'mode':660}," GOOD "}",
	  "control.mode: must be octal permission bits as a string", { 0 }, NULL, 1 },
	{ "control_mode_not_octal", "{'control':{'mode':'0689'}," GOOD "}",
	  "control.mode: must be octal permission bits as a string, \"0000\"..\"0777\" (e.g. \"0660\"), got \"0689\"",
	  { 0 }, NULL, 1 },
	{ "control_mode_too_big", "{'control':{'mode':'01777'}," GOOD "}",
	  "control.mode: must be octal", { 0 }, NULL, 1 },
	{ "control_mode_empty", "{'control':{'mode':''}," GOOD "}",
	  "control.mode: must be octal", { 0 }, NULL, 1 },
	{ "control_group_unknown", "{'control':{'group':'no-such-group-xyz'}," GOOD "}",
	  "control.group: no group named \"no-such-group-xyz\" on this machine", { 0 }, NULL, 1 },
	{ "control_idle_ms_small", "{'control':{'idle_ms':99}," GOOD "}",
	  "control.idle_ms: must be 100..3600000, got 99", { 0 }, NULL, 1 },
	{ "control_slow_ms_string", "{'control':{'slow_ms':'5s'}," GOOD "}",
	  "control.slow_ms: must be", { 0 }, NULL, 1 },
	{ "control_slow_ms_large", "{'control':{'slow_ms':3600001}," GOOD "}",
	  "control.slow_ms: must be 100..3600000, got 3600001", { 0 }, NULL, 1 },
	{ "control_unknown_key", "{'control':{'mdoe':'0660'}," GOOD "}",
	  "control.mdoe: unknown key", { 0 }, NULL, 1 },
	/* The packet DBuf's mode: an octal string, and the owner must read it. */
	{ "packet_mode_number", "{'memory':{'packet_mode':640}," GOOD "}",
	  "memory.packet_mode: must be octal permission bits as a string, \"0000\"..\"0777\" "
	  "(e.g. \"0640\"), got a number", { 0 }, NULL, 1 },
	{ "packet_mode_not_octal", "{'memory':{'packet_mode':'0648'}," GOOD "}",
	  "memory.packet_mode: must be octal permission bits as a string, \"0000\"..\"0777\" "
	  "(e.g. \"0640\"), got \"0648\"", { 0 }, NULL, 1 },
	{ "packet_mode_too_big", "{'memory':{'packet_mode':'04640'}," GOOD "}",
	  "memory.packet_mode: must be octal", { 0 }, NULL, 1 },
	{ "packet_mode_empty", "{'memory':{'packet_mode':''}," GOOD "}",
	  "memory.packet_mode: must be octal", { 0 }, NULL, 1 },
	{ "packet_mode_owner_cannot_read", "{'memory':{'packet_mode':'0240'}," GOOD "}",
	  "memory.packet_mode: the appliance must be able to read the packet DBuf to hand it to "
	  "clients: give the owner read (0400), got \"0240\"", { 0 }, NULL, 1 },
	{ "packet_mode_typo", "{'memory':{'packet_mod':'0640'}," GOOD "}",
	  "memory.packet_mod: unknown key (did you mean \"packet_mode\"?)", { 0 }, NULL, 1 },
	{ "hugepages_bad_word", "{'memory':{'hugepages':'maybe'}," GOOD "}",
	  "memory.hugepages: must be \"auto\", \"yes\" or \"no\", got \"maybe\"", { 0 }, NULL, 1 },
	{ "hugepages_case", "{'memory':{'hugepages':'Yes'}," GOOD "}",
	  "memory.hugepages: must be \"auto\", \"yes\" or \"no\", got \"Yes\"", { 0 }, NULL, 1 },

	/* The instance name. */
	{ "instance_space", "{'instance':'x y'," GOOD "}",
	  "instance: must be 1..31 characters of letters, digits, '_' or '-', got \"x y\"",
	  { 0 }, NULL, 1 },
	{ "instance_slash", "{'instance':'../etc'," GOOD "}",
	  "instance: must be 1..31 characters", { "\"../etc\"" }, NULL, 1 },
	{ "instance_empty", "{'instance':''," GOOD "}",
	  "instance: must be 1..31 characters", { 0 }, NULL, 1 },
	{ "instance_32_chars", "{'instance':'abcdefghijklmnopqrstuvwxyz012345'," GOOD "}",
	  "instance: must be 1..31 characters", { 0 }, NULL, 1 },

	/* Ports. */
	{ "ports_missing", "{" WORKERS_A "}", "ports: required, missing", { 0 }, NULL, 0 },
	{ "ports_empty", "{'ports':[]," WORKERS_A "}",
	  "ports: must be a non-empty array, got an empty array", { 0 }, NULL, 0 },
	{ "ports_not_array", "{'ports':" PORT_A "," WORKERS_A "}",
	  "ports: must be a non-empty array, got an object", { 0 }, NULL, 0 },
	{ "port_no_device", ONE_PORT("{'name':'a'}"),
	  "ports[0]: needs a device: \"vdev\"", { "\"pci\"" }, NULL, 1 },
	{ "port_both_devices", ONE_PORT("{'name':'a','vdev':'net_null0','pci':'0000:03:00.0'}"),
	  "ports[0]: give either \"vdev\" or \"pci\", not both", { 0 }, NULL, 1 },
	{ "port_name_missing", ONE_PORT("{'vdev':'net_null0'}"),
	  "ports[0].name: required, missing", { 0 }, NULL, 0 },
	{ "port_name_bad_chars", SECOND_PORT("{'name':'b.1','vdev':'net_null1'}"),
	  "ports[1].name: must be 1..31 characters of letters, digits", { "\"b.1\"" }, NULL, 1 },
	{ "vdev_eth0", ONE_PORT("{'name':'a','vdev':'eth0'}"),
	  "ports[0].vdev: must be a DPDK virtual device spec such as \"net_null0\"",
	  { "got \"eth0\"" }, NULL, 1 },
	{ "vdev_net_", ONE_PORT("{'name':'a','vdev':'net_'}"),
	  "ports[0].vdev: must be a DPDK virtual device spec", { "got \"net_\"" }, NULL, 1 },
	{ "vdev_net_with_args", ONE_PORT("{'name':'a','vdev':'net_,size=64'}"),
	  "ports[0].vdev: must be a DPDK virtual device spec", { 0 }, NULL, 1 },
	{ "vdev_empty", ONE_PORT("{'name':'a','vdev':''}"),
	  "ports[0].vdev: must be a DPDK virtual device spec", { 0 }, NULL, 1 },
	{ "vdev_bad_device_char", ONE_PORT("{'name':'a','vdev':'net_null-0'}"),
	  "ports[0].vdev: device name \"net_null-0\" may hold only letters, digits and '_'",
	  { 0 }, NULL, 1 },
	{ "vdev_empty_argument", ONE_PORT("{'name':'a','vdev':'net_pcap0,,rx_pcap=x.pcap'}"),
	  "ports[0].vdev: empty argument in \"net_pcap0,,rx_pcap=x.pcap\"", { 0 }, NULL, 1 },
	{ "vdev_trailing_comma", ONE_PORT("{'name':'a','vdev':'net_null0,'}"),
	  "ports[0].vdev: empty argument", { 0 }, NULL, 1 },
	{ "pci_no_function", ONE_PORT("{'name':'a','pci':'0000:03:00'}"),
	  "ports[0].pci: must be a PCI address such as \"0000:03:00.0\", got \"0000:03:00\"",
	  { 0 }, NULL, 1 },
	{ "pci_function_8", ONE_PORT("{'name':'a','pci':'03:00.8'}"),
	  "ports[0].pci: must be a PCI address", { 0 }, NULL, 1 },
	{ "pci_device_32", ONE_PORT("{'name':'a','pci':'0000:03:20.0'}"),
	  "ports[0].pci: must be a PCI address", { 0 }, NULL, 1 },
	{ "pci_not_hex", ONE_PORT("{'name':'a','pci':'0000:zz:00.0'}"),
	  "ports[0].pci: must be a PCI address", { 0 }, NULL, 1 },
	{ "pci_long_domain", ONE_PORT("{'name':'a','pci':'00000:03:00.0'}"),
	  "ports[0].pci: must be a PCI address", { 0 }, NULL, 1 },
	{ "pci_trailing", ONE_PORT("{'name':'a','pci':'0000:03:00.0x'}"),
	  "ports[0].pci: must be a PCI address", { 0 }, NULL, 1 },
	{ "pci_interface_name", ONE_PORT("{'name':'a','pci':'eth0'}"),
	  "ports[0].pci: must be a PCI address", { 0 }, NULL, 1 },
	{ "duplicate_port_names", SECOND_PORT("{'name':'a','vdev':'net_null1'}"),
	  "ports[1].name: \"a\" is already the name of ports[0]", { 0 }, NULL, 1 },
	{ "duplicate_vdev_devices", SECOND_PORT("{'name':'b','vdev':'net_null0,size=64'}"),
	  "ports[1].vdev: device \"net_null0\" is already ports[0]", { "unique" }, NULL, 1 },
	{ "duplicate_pci_devices",
	  "{'ports':[{'name':'a','pci':'0000:03:00.0'},{'name':'b','pci':'0000:03:00.0'}],"
	  WORKERS_A "}",
	  "ports[1].pci: device \"0000:03:00.0\" is already ports[0]", { 0 }, NULL, 1 },

	/* Workers. */
	{ "workers_missing", "{" PORTS_A "}", "workers, graphs: both missing", { 0 }, NULL, 0 },
	/* graphs given but of no good size: said as what it is (it said "got another size"),
	 * and not as missing too (it said "workers, graphs: both missing" as well). */
	{ "graphs_empty", "{" PORTS_A ",'graphs':[]}",
	  "graphs: must be an array of 1..16 graphs, got an empty array", { 0 }, "missing", 1 },
	{ "graphs_17", "{" PORTS_A ",'graphs':[" G_GEN4 "," G_GEN4 "," G_GEN4 "," G_GEN4 ","
	  G_GEN "]}",
	  "graphs: must be an array of 1..16 graphs, got 17", { 0 }, "missing", 1 },
	{ "graph_lcores_empty", "{" PORTS_A ",'graphs':[{'lcores':[],'pipeline':'gen'}]}",
	  "graphs[0].lcores: must be an array of 1..64 lcores, got an empty array", { 0 }, NULL, 1 },
	{ "workers_empty", "{" PORTS_A ",'workers':[]}",
	  "workers: must be a non-empty array, got an empty array", { 0 }, NULL, 0 },
	{ "workers_not_array", "{" PORTS_A ",'workers':" WORKER_A "}",
	  "workers: must be a non-empty array, got an object", { 0 }, NULL, 0 },
	{ "worker_on_main_lcore", ONE_WORKER("{'lcore':0,'poll':[" POLL_A "]}"),
	  "workers[0].lcore: 0 is the main lcore", { 0 }, NULL, 1 },
	{ "worker_on_moved_main_lcore", "{'main_lcore':3," PORTS_AB
	  ",'workers':[{'lcore':3,'poll':[" POLL_A "]}]}",
	  "workers[0].lcore: 3 is the main lcore", { 0 }, NULL, 1 },
	{ "duplicate_worker_lcores",
	  "{" PORTS_AB ",'workers':[" WORKER_A ",{'lcore':1,'poll':[{'port':'b','queue':0,'tx':'b'}]}]}",
	  "workers[1].lcore: 1 is already workers[0]'s lcore", { 0 }, NULL, 1 },
	{ "worker_lcore_missing", ONE_WORKER("{'poll':[" POLL_A "]}"),
	  "workers[0].lcore: required, missing", { 0 }, NULL, 1 },
	{ "worker_poll_missing", ONE_WORKER("{'lcore':1}"),
	  "workers[0].poll: required, missing", { 0 }, NULL, 1 },
	{ "worker_poll_empty", ONE_WORKER("{'lcore':1,'poll':[]}"),
	  "workers[0].poll: must be a non-empty array, got an empty array", { 0 }, NULL, 1 },
	{ "poll_port_unknown_suggested",
	  "{'ports':[{'name':'in','vdev':'net_null0'},{'name':'out','vdev':'net_null1'}],"
	  "'workers':[{'lcore':1,'poll':[{'port':'inn','queue':0,'tx':'out'}]}]}",
	  "workers[0].poll[0].port: no port named \"inn\" (did you mean \"in\"?)", { 0 }, NULL, 1 },
	{ "poll_port_unknown_far", ONE_POLL("{'port':'uplink','queue':0,'tx':'a'}"),
	  "workers[0].poll[0].port: no port named \"uplink\"", { 0 }, "did you mean", 1 },
	{ "poll_tx_unknown",
	  "{'ports':[{'name':'in','vdev':'net_null0'},{'name':'out','vdev':'net_null1'}],"
	  "'workers':[{'lcore':1,'poll':[{'port':'in','queue':0,'tx':'otu'}]}]}",
	  "workers[0].poll[0].tx: no port named \"otu\" (did you mean \"out\"?)", { 0 }, NULL, 1 },
	{ "poll_port_missing", ONE_POLL("{'queue':0,'tx':'a'}"),
	  "workers[0].poll[0].port: required, missing", { 0 }, NULL, 1 },
	{ "poll_tx_missing", ONE_POLL("{'port':'a','queue':0}"),
	  "workers[0].poll[0].tx: required, missing", { 0 }, NULL, 1 },
	{ "poll_queue_beyond_rx_queues",
	  "{'ports':[{'name':'a','vdev':'net_null0','rx_queues':2}," PORT_B "],"
	  "'workers':[{'lcore':1,'poll':[{'port':'a','queue':2,'tx':'b'}]}]}",
	  "workers[0].poll[0].queue: port \"a\" has 2 rx queues (0..1), got 2", { 0 }, NULL, 1 },
	{ "poll_queue_1_of_1", ONE_POLL("{'port':'b','queue':1,'tx':'a'}"),
	  "workers[0].poll[0].queue: port \"b\" has 1 rx queue (0..0), got 1", { 0 }, NULL, 1 },
	{ "same_queue_two_workers",
	  "{" PORTS_AB ",'workers':[" WORKER_A
	  ",{'lcore':2,'poll':[{'port':'a','queue':0,'tx':'b'}]}]}",
	  "workers[1].poll[0]: port \"a\" queue 0 is already polled by workers[0]",
	  { "one poller" }, NULL, 1 },
	{ "same_queue_one_worker", ONE_POLL(POLL_A "," POLL_A),
	  "workers[0].poll[1]: port \"a\" queue 0 is already polled by workers[0]", { 0 }, NULL, 1 },
	{ "tx_queues_below_senders",
	  "{'ports':[" PORT_A ",{'name':'b','vdev':'net_null1','tx_queues':1}],'workers':[{'lcore':1,'poll':[{'port':'a','queue':0,'tx':'b'}]},"
	  "{'lcore':2,'poll':[{'port':'b','queue':0,'tx':'b'}]}]}",
	  "ports[1].tx_queues: 2 workers send to port \"b\", each needs a tx queue of its own: "
	  "must be at least 2, got 1", { 0 }, NULL, 1 },

	/* The memory rules. With PORTS_A/WORKERS_A the rings hold 1024 + 1024
	 * mbufs and two lcores (main + worker) 256 * 3 / 2 + 32 each: 2880. */
	{ "mbufs_count_below_rings", "{'mbufs':{'count':2879}," GOOD "}",
	  "mbufs.count: the port rings, caches and bursts can hold 2880 mbufs at once: "
	  "must be at least 2880, got 2879", { 0 }, NULL, 1 },
	{ "memory_size_mb_too_small", "{'memory':{'size_mb':16}," GOOD "}",
	  "memory.size_mb: 8191 mbufs of 2176 bytes need at least 82 MB, got 16", { 0 }, NULL, 1 },
	{ "memory_size_mb_too_small_for_count",
	  "{'memory':{'size_mb':100},'mbufs':{'count':65536}," GOOD "}",
	  "memory.size_mb: 65536 mbufs of 2176 bytes need at least 216 MB, got 100", { 0 }, NULL, 1 },
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* Every case in one process: a process each (a parameterized test) took 146 process
 * starts, 17 s under the sanitizers for what takes well under one. Each message names
 * its case ([name]); the first case that fails ends the test. */
Test(cfg_bad, rejected, .timeout = 30)
{
	for (size_t i = 0; i < N_BAD; i++)
		expect_bad(&bad_cases[i]);
}

Test(cfg_bad, table_is_big_and_names_are_unique)
{
	cr_assert(ge(sz, N_BAD, 40), "only %zu bad configs", N_BAD);
	for (size_t i = 0; i < N_BAD; i++)
		for (size_t j = 0; j < i; j++)
			cr_assert(strcmp(bad_cases[i].name, bad_cases[j].name) != 0,
				  "two bad cases named %s", bad_cases[i].name);
}

/* With BL_CFG_DUMP_DIR set, write each case's JSON to DIR/NAME.json (so that
 * tests/unit/schema.sh checks config/beltline.schema.json against them); else nothing. */
Test(cfg_bad, dump_for_the_schema_test)
{
	const char *dir = getenv("BL_CFG_DUMP_DIR");

	if (dir == NULL)
		return;
	for (size_t i = 0; i < N_BAD; i++) {
		char path[512], *json = dq(bad_cases[i].json);
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.json", dir, bad_cases[i].name);
		f = fopen(path, "w");
		cr_assert(f != NULL, "%s", path);
		fputs(json, f);
		fclose(f);
		free(json);
	}
}

/* ---- bad configs built by code (too long to write out) ------------------ */

Test(cfg_bad_generated, too_many_ports)
{
	static char json[8192];
	struct bad c = { "too_many_ports", json, "ports: at most 32 ports, got 33", { 0 }, NULL, 0 };

	json[0] = '\0';
	cat(json, sizeof(json), "{'ports':[");
	for (int i = 0; i < 33; i++)
		cat(json, sizeof(json), "%s{'name':'p%d','vdev':'net_null%d'}", i ? "," : "", i, i);
	cat(json, sizeof(json), "],'workers':[{'lcore':1,'poll':[{'port':'p0','tx':'p0'}]}]}");
	expect_bad(&c);
}

Test(cfg_bad_generated, too_many_workers)
{
	static char json[16384];
	struct bad c = { "too_many_workers", json, "workers: at most 64 workers, got 65", { 0 }, NULL, 0 };

	json[0] = '\0';
	cat(json, sizeof(json), "{" PORTS_A ",'workers':[");
	for (int i = 0; i < 65; i++)
		cat(json, sizeof(json), "%s{'lcore':%d,'poll':[" POLL_A "]}", i ? "," : "", i + 1);
	cat(json, sizeof(json), "]}");
	expect_bad(&c);
}

Test(cfg_bad_generated, too_many_polls)
{
	static char json[16384];
	struct bad c = { "too_many_polls", json, "workers[0].poll: at most 64 entries, got 65",
			 { 0 }, NULL, 1 };

	json[0] = '\0';
	cat(json, sizeof(json), "{'ports':[{'name':'a','vdev':'net_null0','rx_queues':64}],"
	    "'workers':[{'lcore':1,'poll':[");
	for (int i = 0; i < 65; i++)
		cat(json, sizeof(json), "%s{'port':'a','queue':%d,'tx':'a'}", i ? "," : "", i % 64);
	cat(json, sizeof(json), "]}]}");
	expect_bad(&c);
}

Test(cfg_bad_generated, vdev_too_long_once_resolved)
{
	static char json[4096];
	struct bad c = { "vdev_too_long", json,
			 "ports[0].vdev: longer than 1023 characters once paths are resolved",
			 { 0 }, NULL, 1 };

	json[0] = '\0';
	cat(json, sizeof(json), "{'ports':[{'name':'a','vdev':'net_pcap0,rx_pcap=");
	for (int i = 0; i < 1015; i++)
		cat(json, sizeof(json), "x");
	cat(json, sizeof(json), "'}]," WORKERS_A "}");
	expect_bad(&c);
}

Test(cfg_bad_generated, deep_nesting_does_not_crash)
{
	static char json[8192];
	struct bad c = { "deep_nesting", json, "$: not valid JSON (line 1, col", { 0 }, NULL, 1 };

	json[0] = '\0';
	for (int i = 0; i < 3000; i++)
		cat(json, sizeof(json), "[");
	expect_bad(&c);
}

/* Nested past cJSON's limit in a value that is otherwise good JSON: said why (it said
 * only "not valid JSON (line 1, col 1013)", at a "[" like the ones before it). */
Test(cfg_bad_generated, deep_nesting_says_why)
{
	static char json[8192];
	struct bad c = { "deep_nesting_says_why", json, "$: not valid JSON (line 1, col ",
			 { "arrays and objects nested more than 1000 deep" }, "text ends", 1 };

	json[0] = '\0';
	cat(json, sizeof(json), "{" GOOD ",'x':");
	for (int i = 0; i < 1200; i++)
		cat(json, sizeof(json), "[");
	for (int i = 0; i < 1200; i++)
		cat(json, sizeof(json), "]");
	cat(json, sizeof(json), "}");
	expect_bad(&c);
}

Test(cfg_bad_generated, long_unknown_key)
{
	static char json[4096];
	struct bad c = { "long_unknown_key", json, "kkkkkkkkkk", { "k: unknown key" }, NULL, 1 };

	json[0] = '\0';
	cat(json, sizeof(json), "{'");
	for (int i = 0; i < 900; i++)
		cat(json, sizeof(json), "k");
	cat(json, sizeof(json), "':1," GOOD "}");
	expect_bad(&c);
}

/* ---- several problems at once ------------------------------------------- */

/* Problems found key by key are all reported, one line each. */
Test(cfg_several, every_key_problem_is_reported)
{
	struct result *r = parse(
		"{ 'instance': 'x y', 'burts': 32, 'burst': 0,\n"
		"  'memory': { 'hugepages': 'maybe', 'size_mb': 1 },\n"
		"  'mbufs': { 'count': 'many' },\n"
		"  'ports': [ { 'name': 'in', 'vdev': 'net_null0', 'rx_queues': 0 },\n"
		"             { 'name': 'in', 'vdev': 'eth0', 'rx_desc': 1000 } ],\n"
		"  'workers': [ { 'lcore': 200, 'poll': [ { 'port': 'inn', 'queue': 0, 'tx': 'in' } ] } ] }");
	static const char *const want[] = {
		"instance: must be 1..31 characters",
		"burts: unknown key (did you mean \"burst\"?)",
		"burst: must be 1..256, got 0",
		"memory.hugepages: must be \"auto\", \"yes\" or \"no\", got \"maybe\"",
		"memory.size_mb: must be 16..65536, got 1",
		"mbufs.count: must be an integer 1024..67108864, got a string",
		"ports[0].rx_queues: must be 1..64, got 0",
		"ports[1].vdev: must be a DPDK virtual device spec",
		"ports[1].rx_desc: must be a power of two 32..16384, got 1000",
		"workers[0].lcore: must be 0..127, got 200",
		"workers[0].poll[0].port: no port named \"inn\" (did you mean \"in\"?)",
	};
	size_t n = sizeof(want) / sizeof(want[0]);

	cr_assert(eq(int, r->rc, -EINVAL));
	for (size_t i = 0; i < n; i++)
		cr_assert(has_line(r->text, want[i]), "missing line \"%s\" in:\n%s", want[i], r->text);
	cr_assert(eq(u32, r->diag.n, (unsigned int)n), "want %zu problems, got %u:\n%s", n,
		  r->diag.n, r->text);
	cr_assert(eq(u32, count_lines(r->text), r->diag.n));
	result_free(r);
}

/* Problems found across keys are all reported too. */
Test(cfg_several, every_cross_key_problem_is_reported)
{
	struct result *r = parse(
		"{ 'mbufs': { 'count': 1024 }, 'memory': { 'size_mb': 16 },\n"
		"  'ports': [ { 'name': 'a', 'vdev': 'net_null0', 'tx_queues': 1 },\n"
		"             { 'name': 'a', 'vdev': 'net_null0' } ],\n"
		"  'workers': [ { 'lcore': 0, 'poll': [ { 'port': 'a', 'queue': 1, 'tx': 'a' } ] },\n"
		"               { 'lcore': 2, 'poll': [ { 'port': 'a', 'queue': 0, 'tx': 'a' },\n"
		"                                       { 'port': 'a', 'queue': 0, 'tx': 'a' } ] },\n"
		"               { 'lcore': 2, 'poll': [ { 'port': 'a', 'queue': 0, 'tx': 'a' } ] } ] }");
	static const char *const want[] = {
		"ports[1].name: \"a\" is already the name of ports[0]",
		"ports[1].vdev: device \"net_null0\" is already ports[0]",
		"workers[0].lcore: 0 is the main lcore",
		"workers[0].poll[0].queue: port \"a\" has 1 rx queue (0..0), got 1",
		"workers[1].poll[1]: port \"a\" queue 0 is already polled by workers[1]",
		"workers[2].lcore: 2 is already workers[1]'s lcore",
		"workers[2].poll[0]: port \"a\" queue 0 is already polled by workers[1]",
		"ports[0].tx_queues: 2 workers send to port \"a\"",
		"mbufs.count: the port rings, caches and bursts can hold",
		"memory.size_mb: ",
	};
	size_t n = sizeof(want) / sizeof(want[0]);

	cr_assert(eq(int, r->rc, -EINVAL));
	for (size_t i = 0; i < n; i++)
		cr_assert(has_line(r->text, want[i]), "missing line \"%s\" in:\n%s", want[i], r->text);
	cr_assert(eq(u32, r->diag.n, (unsigned int)n), "want %zu problems, got %u:\n%s", n,
		  r->diag.n, r->text);
	cr_assert(eq(u32, count_lines(r->text), r->diag.n));
	result_free(r);
}

/* A diag that already holds problems keeps them and gains the new ones. */
Test(cfg_several, diag_accumulates_across_calls)
{
	struct bl_cfg *cfg = calloc(1, sizeof(*cfg));
	struct bl_diag d = { 0 };
	char *a = dq("{'burst':0," GOOD "}"), *b = dq("{'main_lcore':500," GOOD "}");

	cr_assert(eq(int, bl_cfg_parse(a, strlen(a), NULL, cfg, &d), -EINVAL));
	cr_assert(eq(int, bl_cfg_parse(b, strlen(b), NULL, cfg, &d), -EINVAL));
	cr_assert(eq(u32, d.n, 2));
	cr_assert(has_line(d.text, "burst: ") && has_line(d.text, "main_lcore: "), "%s", d.text);
	bl_diag_free(&d);
	cr_assert(d.n == 0 && d.text == NULL);
	free(a);
	free(b);
	free(cfg);
}


/* ---- NUL bytes and text after the object, which a C string cannot show ---- */

static struct result *
parse_bytes(const char *bytes, size_t len)
{
	struct result *r = calloc(1, sizeof(*r));

	cr_assert(r != NULL);
	r->rc = bl_cfg_parse(bytes, len, "/cfgdir", &r->cfg, &r->diag);
	r->text = r->diag.text != NULL ? r->diag.text : "";
	return r;
}

/* A raw NUL byte inside a string cut the string there (the file is read by length). */
Test(cfg_bad_bytes, raw_nul_in_a_string)
{
	static const char j[] = "{\"instance\":\"rel\0x\",\"ports\":[{\"name\":\"a\","
		"\"vdev\":\"net_null0\"}],\"workers\":[{\"lcore\":1,\"poll\":[{\"port\":\"a\","
		"\"queue\":0,\"tx\":\"a\"}]}]}";
	struct result *r = parse_bytes(j, sizeof(j) - 1);

	cr_assert(eq(int, r->rc, -EINVAL), "accepted; instance is \"%s\"", r->cfg.instance);
	cr_assert(has_line(r->text, "instance: contains a NUL character"), "%s", r->text);
	result_free(r);
}

/* The trailing-text check stopped at a NUL byte: "{...}\0junk" was accepted. */
Test(cfg_bad_bytes, text_after_a_nul_after_the_object)
{
	char *good = dq("{" GOOD "}");
	size_t n = strlen(good);
	char *j = malloc(n + 6);

	cr_assert(j != NULL);
	memcpy(j, good, n);
	memcpy(j + n, "\0junk", 5);
	struct result *r = parse_bytes(j, n + 5);
	cr_assert(eq(int, r->rc, -EINVAL));
	cr_assert(has_line(r->text, "$: not valid JSON (line 1, col "), "%s", r->text);
	cr_assert(strstr(r->text, "text follows the end of the object") != NULL, "%s", r->text);
	result_free(r);
	/* A bare NUL after the object is just as much not JSON. */
	r = parse_bytes(j, n + 1);
	cr_assert(eq(int, r->rc, -EINVAL), "\"{...}\\0\" accepted");
	result_free(r);
	free(j);
	free(good);
}

/*
 * A NUL byte between the tokens, or before the object: cJSON skips every byte
 * up to 32 as white space, so "{\0'ports':...}" was accepted, though a reader
 * of C strings (an editor, a script) sees "{" and JSON has no such white space.
 */
Test(cfg_bad_bytes, a_nul_between_tokens_or_before_the_object)
{
	char *good = dq("{" GOOD "}");
	size_t n = strlen(good);
	char *j = malloc(n + 1);

	cr_assert(j != NULL);
	for (int where = 0; where < 3; where++) {
		size_t at = where == 0 ? 0 : where == 1 ? 1 : n - 1;   /* before {, after {, before } */

		memcpy(j, good, at);
		j[at] = '\0';
		memcpy(j + at + 1, good + at, n - at);
		struct result *r = parse_bytes(j, n + 1);
		cr_assert(eq(int, r->rc, -EINVAL), "a NUL at byte %zu accepted", at);
		cr_assert(strstr(r->text, "a NUL byte") != NULL, "%s", r->text);
		cr_assert(strstr(r->text, "col ") != NULL, "%s", r->text);
		result_free(r);
	}
	free(j);
	free(good);
}

/* "\\u0000" spelt with an escaped backslash is six ordinary characters, not a NUL. */
Test(cfg_bad_bytes, escaped_backslash_u0000_is_not_a_nul)
{
	struct result *r = parse("{'ports':[{'name':'a','vdev':'net_null0,x=\\\\u0000'}]," WORKERS_A "}");

	cr_assert(strstr(r->text, "NUL") == NULL, "%s", r->text);
	result_free(r);
}
