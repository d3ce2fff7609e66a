#pragma once

#include <map>
#include <memory>
#include <string>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace ferry::rest {

using tls_context = std::shared_ptr<ssl_ctx_st>;

// A server-side TLS context from Kafka Connect's REST SSL settings, given without their prefix
// (the worker passes the `listeners.https.` keys when any is set, else its `ssl.*` keys, as Kafka
// does):
//   ssl.keystore.location / .password / .type (PKCS12, JKS, PEM), ssl.key.password,
//   ssl.keystore.certificate.chain + ssl.keystore.key (PEM text instead of a file),
//   ssl.truststore.location / .password / .type (PKCS12, JKS, PEM), ssl.truststore.certificates,
//   ssl.client.auth (none, requested, required), ssl.enabled.protocols (TLSv1.2, TLSv1.3),
//   ssl.cipher.suites (IANA names, as Java uses).
// Java's JKS format cannot be read: PKCS12 files are read whatever the declared type (keytool
// writes PKCS12 by default since Java 9), and a real JKS file is refused with the keytool command
// that converts it. Throws std::runtime_error naming the setting at fault.
tls_context make_server_tls_context(const std::map<std::string, std::string>& ssl);

}  // namespace ferry::rest
