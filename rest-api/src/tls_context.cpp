#include "ferry/rest/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "ferry/api/config_def.hpp"

namespace ferry::rest {

namespace {

template <typename T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const { Free(p); }
};
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO, BIO_free_all>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509, X509_free>>;
using p12_ptr = std::unique_ptr<PKCS12, openssl_deleter<PKCS12, PKCS12_free>>;

[[noreturn]] void fail(const std::string& what) {
  std::string detail;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    detail += detail.empty() ? ": " : "; ";
    detail += buf;
  }
  throw std::runtime_error(what + detail);
}

std::string setting(const std::map<std::string, std::string>& ssl, const std::string& key) {
  auto it = ssl.find(key);
  return it == ssl.end() ? std::string{} : api::trim(it->second);
}

std::string read_file(const std::string& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(key + ": cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool is_jks(const std::string& bytes) {
  // JKS files start with 0xFEEDFEED, JCEKS files with 0xCECECECE.
  return bytes.rfind("\xFE\xED\xFE\xED", 0) == 0 || bytes.rfind("\xCE\xCE\xCE\xCE", 0) == 0;
}

bool is_pem(const std::string& bytes) {
  return bytes.find("-----BEGIN ") != std::string::npos;
}

struct key_material {
  pkey_ptr key;
  std::vector<x509_ptr> certs;  // the leaf first, then its chain
};

// A PKCS12 file's key and certificates; tries each password given (store, then key).
key_material read_pkcs12(const std::string& bytes, const std::string& path,
                         const std::vector<std::string>& passwords, const std::string& key) {
  if (is_jks(bytes)) {
    throw std::runtime_error(key + ": " + path +
                             " is a Java JKS/JCEKS keystore, which ferry cannot read; convert it "
                             "with: keytool -importkeystore -srckeystore " +
                             path + " -destkeystore " + path + ".p12 -deststoretype PKCS12");
  }
  bio_ptr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  p12_ptr p12(d2i_PKCS12_bio(bio.get(), nullptr));
  if (!p12) fail(key + ": " + path + " is not a PKCS12 keystore");
  for (const auto& password : passwords) {
    EVP_PKEY* pkey = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* ca = nullptr;
    if (!PKCS12_parse(p12.get(), password.c_str(), &pkey, &cert, &ca)) continue;
    key_material m;
    m.key.reset(pkey);
    if (cert) m.certs.emplace_back(cert);
    while (ca && sk_X509_num(ca) > 0) m.certs.emplace_back(sk_X509_shift(ca));
    sk_X509_free(ca);
    ERR_clear_error();
    return m;
  }
  fail(key + ": cannot open " + path + " (wrong password?)");
}

std::vector<x509_ptr> read_pem_certificates(const std::string& pem, const std::string& key) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<x509_ptr> certs;
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(c);
  ERR_clear_error();  // the end of the input reads as an error
  if (certs.empty()) throw std::runtime_error(key + ": no PEM certificate found");
  return certs;
}

pkey_ptr read_pem_key(const std::string& pem, const std::string& password, const std::string& key) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  auto* pass = password.empty() ? nullptr : const_cast<char*>(password.c_str());
  pkey_ptr k(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, pass));
  if (!k) fail(key + ": no readable PEM private key (wrong ssl.key.password?)");
  return k;
}

key_material load_keystore(const std::map<std::string, std::string>& ssl) {
  auto type = setting(ssl, "ssl.keystore.type");
  auto location = setting(ssl, "ssl.keystore.location");
  auto key_password = setting(ssl, "ssl.key.password");
  if (!type.empty() && type != "PKCS12" && type != "JKS" && type != "PEM") {
    throw std::runtime_error("ssl.keystore.type: " + type + " is not one of PKCS12, JKS, PEM");
  }
  if (location.empty()) {
    auto key = setting(ssl, "ssl.keystore.key");
    if (key.empty()) {
      throw std::runtime_error(
          "an https listener needs a key and certificate: set ssl.keystore.location (PKCS12 or "
          "PEM), or ssl.keystore.key and ssl.keystore.certificate.chain");
    }
    key_material m;
    m.key = read_pem_key(key, key_password, "ssl.keystore.key");
    m.certs = read_pem_certificates(setting(ssl, "ssl.keystore.certificate.chain"),
                                    "ssl.keystore.certificate.chain");
    return m;
  }
  auto bytes = read_file(location, "ssl.keystore.location");
  if (type == "PEM" || is_pem(bytes)) {  // the key and the certificate chain in one file
    key_material m;
    m.key = read_pem_key(bytes, key_password, "ssl.keystore.location");
    m.certs = read_pem_certificates(bytes, "ssl.keystore.location");
    return m;
  }
  std::vector<std::string> passwords{setting(ssl, "ssl.keystore.password")};
  if (!key_password.empty()) passwords.push_back(key_password);
  return read_pkcs12(bytes, location, passwords, "ssl.keystore.location");
}

// The CA certificates clients are verified against; empty when no truststore is set.
std::vector<x509_ptr> load_truststore(const std::map<std::string, std::string>& ssl) {
  auto inline_pem = setting(ssl, "ssl.truststore.certificates");
  if (!inline_pem.empty()) return read_pem_certificates(inline_pem, "ssl.truststore.certificates");
  auto location = setting(ssl, "ssl.truststore.location");
  if (location.empty()) return {};
  auto type = setting(ssl, "ssl.truststore.type");
  if (!type.empty() && type != "PKCS12" && type != "JKS" && type != "PEM") {
    throw std::runtime_error("ssl.truststore.type: " + type + " is not one of PKCS12, JKS, PEM");
  }
  auto bytes = read_file(location, "ssl.truststore.location");
  if (type == "PEM" || is_pem(bytes))
    return read_pem_certificates(bytes, "ssl.truststore.location");
  // A PKCS12 truststore made by keytool holds certificates only.
  auto m = read_pkcs12(bytes, location, {setting(ssl, "ssl.truststore.password")},
                       "ssl.truststore.location");
  if (m.certs.empty()) {
    throw std::runtime_error("ssl.truststore.location: " + location + " holds no certificate");
  }
  return std::move(m.certs);
}

int protocol_version(const std::string& name) {
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  throw std::runtime_error("ssl.enabled.protocols: " + name +
                           " is not supported (TLSv1.2 and TLSv1.3 are)");
}

// Java names cipher suites by their IANA names; OpenSSL has its own for TLS 1.2.
void set_cipher_suites(SSL_CTX* ctx, const std::string& list) {
  std::string tls12, tls13;
  STACK_OF(SSL_CIPHER)* all = SSL_CTX_get_ciphers(ctx);
  for (const auto& name : api::split_list(list)) {
    const SSL_CIPHER* match = nullptr;
    for (int i = 0; all && i < sk_SSL_CIPHER_num(all); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(all, i);
      const char* standard = SSL_CIPHER_standard_name(c);
      if ((standard && name == standard) || name == SSL_CIPHER_get_name(c)) match = c;
    }
    if (!match) throw std::runtime_error("ssl.cipher.suites: unknown cipher suite " + name);
    auto& out = SSL_CIPHER_get_protocol_id(match) >> 8 == 0x13 ? tls13 : tls12;
    out += (out.empty() ? "" : ":") + std::string(SSL_CIPHER_get_name(match));
  }
  if (!SSL_CTX_set_cipher_list(ctx, tls12.empty() ? "" : tls12.c_str()) && !tls12.empty()) {
    fail("ssl.cipher.suites: rejected");
  }
  if (!SSL_CTX_set_ciphersuites(ctx, tls13.c_str())) fail("ssl.cipher.suites: rejected");
}

}  // namespace

tls_context make_server_tls_context(const std::map<std::string, std::string>& ssl) {
  ERR_clear_error();
  tls_context ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) fail("cannot create a TLS context");
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);

  auto protocols = api::split_list(setting(ssl, "ssl.enabled.protocols"));
  if (protocols.empty()) protocols = {"TLSv1.2", "TLSv1.3"};
  int lowest = TLS1_3_VERSION, highest = TLS1_2_VERSION;
  for (const auto& p : protocols) {
    lowest = std::min(lowest, protocol_version(p));
    highest = std::max(highest, protocol_version(p));
  }
  SSL_CTX_set_min_proto_version(ctx.get(), lowest);
  SSL_CTX_set_max_proto_version(ctx.get(), highest);
  if (auto suites = setting(ssl, "ssl.cipher.suites"); !suites.empty()) {
    set_cipher_suites(ctx.get(), suites);
  }

  auto keys = load_keystore(ssl);
  if (keys.certs.empty()) throw std::runtime_error("the keystore holds no certificate");
  if (SSL_CTX_use_certificate(ctx.get(), keys.certs.front().get()) != 1) {
    fail("cannot use the keystore's certificate");
  }
  for (std::size_t i = 1; i < keys.certs.size(); ++i) {
    // add_extra_chain_cert takes ownership.
    if (SSL_CTX_add_extra_chain_cert(ctx.get(), keys.certs[i].get()) != 1) {
      fail("cannot use the keystore's certificate chain");
    }
    keys.certs[i].release();
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), keys.key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    fail("the keystore's private key does not match its certificate");
  }

  auto client_auth = setting(ssl, "ssl.client.auth");
  if (client_auth.empty()) client_auth = "none";
  if (client_auth != "none" && client_auth != "requested" && client_auth != "required") {
    throw std::runtime_error("ssl.client.auth: " + client_auth +
                             " is not one of none, requested, required");
  }
  auto trusted = load_truststore(ssl);
  if (client_auth != "none") {
    if (trusted.empty()) {
      throw std::runtime_error("ssl.client.auth=" + client_auth +
                               " needs the CAs to trust: set ssl.truststore.location or "
                               "ssl.truststore.certificates");
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    for (const auto& c : trusted) {
      if (X509_STORE_add_cert(store, c.get()) != 1) fail("cannot add a truststore certificate");
    }
    int mode = SSL_VERIFY_PEER;
    if (client_auth == "required") mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx.get(), mode, nullptr);
    // Tell clients which CAs are accepted, so they pick the right certificate.
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    for (const auto& c : trusted)
      sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(c.get())));
    SSL_CTX_set_client_CA_list(ctx.get(), names);
  }
  return ctx;
}

}  // namespace ferry::rest
