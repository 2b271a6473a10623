# SPDX-License-Identifier: BSD-3-Clause
# Certificates for the tls:// tests (net_tls.sh, net_write.sh), made in $C.
# ca NAME: a self-signed CA, $C/NAME.pem and $C/NAME.key
ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$C/$1.key" -out "$C/$1.pem" -days 2 \
		-subj "/CN=$1" 2> /dev/null
}
# leaf NAME CA SAN: a certificate NAME signed by CA, with subjectAltName SAN
leaf() {
	openssl req -newkey rsa:2048 -nodes -keyout "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$1" \
		2> /dev/null
	printf 'subjectAltName=%s\n' "$3" > "$C/$1.ext"
	openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.pem" -CAkey "$C/$2.key" -CAcreateserial \
		-out "$C/$1.pem" -days 2 -extfile "$C/$1.ext" 2> /dev/null
}
