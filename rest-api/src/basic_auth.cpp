#include "ferry/rest/basic_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/core/converters.hpp"
#include "ferry/storage/atomic_file.hpp"

namespace ferry::rest {

namespace {

constexpr const char* k_scheme = "$pbkdf2-sha256$";
constexpr std::size_t k_max_cached = 1024;

std::string pbkdf2(const std::string& password, const std::string& salt, int iterations) {
  std::string key(32, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(key.size()),
                        reinterpret_cast<unsigned char*>(key.data())) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return key;
}

std::string sha256(const std::string& data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
             EVP_sha256(), nullptr);
  out.resize(len);
  return out;
}

struct parsed_hash {
  int iterations;
  std::string salt;
  std::string key;
};

std::optional<parsed_hash> parse_hash(const std::string& hash) {
  if (!hash.starts_with(k_scheme)) return std::nullopt;
  auto rest = hash.substr(std::string(k_scheme).size());
  auto d1 = rest.find('$');
  auto d2 = d1 == std::string::npos ? d1 : rest.find('$', d1 + 1);
  if (d2 == std::string::npos) return std::nullopt;
  auto iterations = api::parse_long(rest.substr(0, d1));
  auto salt = core::base64_decode(rest.substr(d1 + 1, d2 - d1 - 1));
  auto key = core::base64_decode(rest.substr(d2 + 1));
  if (!iterations || *iterations < 1000 || *iterations > 10000000 || !salt || !key ||
      key->size() != 32) {
    return std::nullopt;
  }
  return parsed_hash{static_cast<int>(*iterations), *salt, *key};
}

}  // namespace

std::string basic_authenticator::hash_password(const std::string& password, int iterations) {
  std::string salt(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    throw std::runtime_error("no random bytes for the salt");
  }
  return k_scheme + std::to_string(iterations) + "$" + core::base64_encode(salt) + "$" +
         core::base64_encode(pbkdf2(password, salt, iterations));
}

bool basic_authenticator::verify(const std::string& password, const std::string& hash) {
  auto h = parse_hash(hash);
  if (!h) return false;
  auto key = pbkdf2(password, h->salt, h->iterations);
  return CRYPTO_memcmp(key.data(), h->key.data(), key.size()) == 0;
}

basic_authenticator::basic_authenticator(const std::string& path) {
  auto text = storage::read_file(path);
  if (!text) throw std::runtime_error("Credentials file " + path + " does not exist");
  std::size_t start = 0;
  int line_no = 0;
  while (start < text->size()) {
    auto nl = text->find('\n', start);
    if (nl == std::string::npos) nl = text->size();
    auto line = api::trim(text->substr(start, nl - start));
    start = nl + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    auto where = "Credentials file " + path + ", line " + std::to_string(line_no) + ": ";
    if (colon == std::string::npos || colon == 0) {
      throw std::runtime_error(where + "expected user:<hash>");
    }
    auto user = api::trim(line.substr(0, colon));
    auto hash = api::trim(line.substr(colon + 1));
    if (!parse_hash(hash)) {
      throw std::runtime_error(where + "the password of " + user +
                               " is not a $pbkdf2-sha256$ hash; make one with "
                               "'ferry-worker hash-password'");
    }
    users_[user] = hash;
  }
  if (users_.empty()) throw std::runtime_error("Credentials file " + path + " has no user");
}

bool basic_authenticator::check(const std::string& authorization) {
  const std::string prefix = "Basic ";
  if (authorization.size() <= prefix.size() ||
      !std::equal(prefix.begin(), prefix.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return false;
  }
  auto digest = sha256(authorization);
  {
    std::lock_guard lock(mutex_);
    if (verified_.count(digest)) return true;
  }
  auto decoded = core::base64_decode(api::trim(authorization.substr(prefix.size())));
  if (!decoded) return false;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  auto it = users_.find(decoded->substr(0, colon));
  if (it == users_.end() || !verify(decoded->substr(colon + 1), it->second)) return false;
  std::lock_guard lock(mutex_);
  if (verified_.size() >= k_max_cached) verified_.clear();
  verified_.insert(digest);
  return true;
}

}  // namespace ferry::rest
