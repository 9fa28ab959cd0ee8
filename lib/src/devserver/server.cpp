#include <edgeloop/devserver/server.hpp>

#include <edgeloop/aws/publish.hpp>
#include <edgeloop/aws/shadow_request.hpp>
#include <edgeloop/aws/sigv4.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace edgeloop::devserver {

namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr std::string_view server_name = "edgeloop-devserver";
constexpr auto io_timeout = 30s;
constexpr auto shutdown_timeout = 5s;
constexpr std::uint64_t max_request_body = 8 * 1024 * 1024;
constexpr std::uint64_t max_drip_chunks = 100'000;
constexpr std::uint64_t max_drip_chunk_size = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------
// OpenSSL: keys, certificates, PEM.

struct openssl_free {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(X509* p) const noexcept { X509_free(p); }
    void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
template <class T>
using openssl_ptr = std::unique_ptr<T, openssl_free>;

[[noreturn]] void throw_openssl(std::string_view what) {
    std::string message = "devserver: " + std::string(what) + " failed";
    if (const unsigned long err = ERR_get_error(); err != 0) {
        std::array<char, 256> text{};
        ERR_error_string_n(err, text.data(), text.size());
        message += ": ";
        message += text.data();
    }
    // Leftover entries would be misread as the cause of some later, unrelated failure.
    ERR_clear_error();
    throw std::runtime_error(message);
}

template <class T>
T* check(T* p, std::string_view what) {
    if (p == nullptr)
        throw_openssl(what);
    return p;
}

void check(long ok, std::string_view what) {
    if (ok <= 0)
        throw_openssl(what);
}

openssl_ptr<EVP_PKEY> make_key() {
    return openssl_ptr<EVP_PKEY>(check(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), "EC keygen"));
}

using extension_list = std::initializer_list<std::pair<int, const char*>>;

/// Self-signed when issuer is null.
openssl_ptr<X509> make_certificate(EVP_PKEY* key, const char* common_name, extension_list extensions,
                                   X509* issuer = nullptr, EVP_PKEY* issuer_key = nullptr) {
    openssl_ptr<X509> cert(check(X509_new(), "X509_new"));
    check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");

    // Random serials: clients that cache by issuer and serial must not mix up certificates of two runs.
    openssl_ptr<BIGNUM> serial(check(BN_new(), "BN_new"));
    check(BN_rand(serial.get(), 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY), "BN_rand");
    check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())), "serial number");

    // The hour of slack absorbs clock differences between this process and its clients.
    check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600), "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600), "notAfter");

    X509_NAME* subject = X509_get_subject_name(cert.get());
    check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0),
          "subject");
    check(X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject), "issuer");
    check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");

    X509V3_CTX ctx{};
    X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    for (const auto& [nid, value] : extensions) {
        openssl_ptr<X509_EXTENSION> ext(
            check(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value), std::string("extension ") + value));
        check(X509_add_ext(cert.get(), ext.get(), -1), "X509_add_ext");
    }
    check(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()), "X509_sign");
    return cert;
}

template <class Write>
std::string to_pem(Write write) {
    openssl_ptr<BIO> bio(check(BIO_new(BIO_s_mem()), "BIO_new"));
    check(write(bio.get()), "PEM write");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string certificate_pem(X509* cert) {
    return to_pem([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
}

std::string private_key_pem(EVP_PKEY* key) {
    return to_pem([key](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    });
}

std::string uuid_v4() {
    std::array<unsigned char, 16> b{};
    check(RAND_bytes(b.data(), static_cast<int>(b.size())), "RAND_bytes");
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    constexpr std::string_view hex = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += hex[b[i] >> 4];
        out += hex[b[i] & 0x0f];
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------
// Files.

void write_file(const std::string& path, std::string_view data, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        throw std::system_error(errno, std::generic_category(), "devserver: cannot create " + path);
    // O_CREAT leaves the mode of an existing file alone: a key must not stay readable by others.
    bool ok = ::fchmod(fd, mode) == 0;
    for (std::size_t done = 0; ok && done < data.size();) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n >= 0)
            done += static_cast<std::size_t>(n);
        else if (errno != EINTR)
            ok = false;
    }
    const int error = errno;
    if (::close(fd) != 0 && ok)
        throw std::system_error(errno, std::generic_category(), "devserver: cannot write " + path);
    if (!ok)
        throw std::system_error(error, std::generic_category(), "devserver: cannot write " + path);
}

/// A mkdtemp directory, removed with its content on destruction (also when the server constructor throws).
class private_dir {
public:
    private_dir() {
        const char* base = std::getenv("TMPDIR");
        path_ = std::string(base && *base ? base : "/tmp") + "/edgeloop-devserver-XXXXXX";
        if (::mkdtemp(path_.data()) == nullptr)
            throw std::system_error(errno, std::generic_category(), "devserver: mkdtemp " + path_);
    }
    private_dir(const private_dir&) = delete;
    private_dir& operator=(const private_dir&) = delete;
    ~private_dir() { remove(); }

    const std::string& path() const noexcept { return path_; }
    void remove() noexcept {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }

private:
    std::string path_;
};

// ---------------------------------------------------------------------------------------------------
// TLS callbacks.

int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* offered,
                unsigned int offered_size, void* arg) {
    const auto& accepted = *static_cast<const std::string*>(arg);
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, out_size, reinterpret_cast<const unsigned char*>(accepted.data()),
                              static_cast<unsigned int>(accepted.size()), offered,
                              offered_size) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

// OpenSSL calls the ALPN callback only when the client sends the extension; refusing a client that
// sends none has to happen earlier.
int require_alpn(SSL* ssl, int* alert, void*) {
    const unsigned char* ext = nullptr;
    std::size_t size = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext, &size) == 1)
        return SSL_CLIENT_HELLO_SUCCESS;
    *alert = SSL_AD_NO_APPLICATION_PROTOCOL;
    return SSL_CLIENT_HELLO_ERROR;
}

// ---------------------------------------------------------------------------------------------------
// Connections.

struct connection {
    explicit connection(const net::any_io_executor& ex)
        : timer_(ex) {}
    virtual ~connection() = default;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    virtual beast::tcp_stream& tcp() = 0;
    /// Makes every pending operation of the session complete with an error, which ends it.
    void close() {
        timer_.cancel();
        tcp().close();
    }

    net::steady_timer timer_;
};

template <class Stream>
struct connection_of final : connection {
    template <class... Args>
    explicit connection_of(const net::any_io_executor& ex, Args&&... args)
        : connection(ex)
        , stream_(std::forward<Args>(args)...) {}
    beast::tcp_stream& tcp() override { return beast::get_lowest_layer(stream_); }

    Stream stream_;
};

using tls_stream = ssl::stream<beast::tcp_stream>;

template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

// ---------------------------------------------------------------------------------------------------
// Routing.

using request = http::request<http::string_body>;

// 630 whole alphabets: a window of up to pattern_block bytes starting anywhere in the pattern is a slice
// of this block, so large bodies are written from it piece by piece, never built in memory.
constexpr std::size_t pattern_block = 26 * 630;

net::const_buffer pattern(std::uint64_t offset, std::size_t size) {
    static const std::string block = [] {
        std::string s(pattern_block + 26, '\0');
        for (std::size_t i = 0; i < s.size(); ++i)
            s[i] = static_cast<char>('a' + i % 26);
        return s;
    }();
    return net::buffer(block.data() + offset % 26, std::min(size, pattern_block));
}

template <class T>
std::optional<T> parse_number(std::string_view text) {
    T value{};
    const char* end = text.data() + text.size();
    const auto [ptr, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc{} || ptr != end)
        return std::nullopt;
    return value;
}

std::string status_text(unsigned code) {
    const auto status = http::int_to_status(code);
    if (status == http::status::unknown)
        return std::to_string(code) + "\n";
    return std::to_string(code) + " " + std::string(http::obsolete_reason(status)) + "\n";
}

http::response<http::string_body> make_response(const request& req, unsigned code, std::string body,
                                                std::string_view content_type = "text/plain") {
    http::response<http::string_body> res;
    res.version(req.version());
    res.result(code);
    if (http::int_to_status(code) == http::status::unknown)
        res.reason("Unknown");
    res.set(http::field::server, server_name);
    res.set(http::field::content_type, content_type);
    res.keep_alive(req.keep_alive());
    // 204 and 304 carry no body, and a Content-Length: 0 would misdescribe both (RFC 9110 8.6).
    if (code == 204 || code == 304)
        return res;
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

http::response<http::string_body> make_status(const request& req, unsigned code) {
    return make_response(req, code, status_text(code));
}

/// What to answer, decided before anything is written.
struct reply {
    enum class kind { text, bytes, drip };
    kind what = kind::text;
    http::response<http::string_body> text; ///< kind::text
    std::chrono::milliseconds sleep{0};
    std::uint64_t size = 0; ///< bytes: the whole body; drip: one chunk
    std::uint64_t chunks = 0;
    std::chrono::milliseconds interval{0};
    bool drop = false; ///< close the connection without answering
};

reply text_reply(http::response<http::string_body> res, std::chrono::milliseconds sleep = {}) {
    reply r;
    r.text = std::move(res);
    r.sleep = sleep;
    return r;
}

/// Takes a decoded publish; returns 0 to answer 200, another status to answer instead, or
/// publish_dropped to close the connection without an answer.
using publish_sink = std::function<unsigned(received_publish)>;

http::response<http::string_body> aws_error(const request& req, unsigned code, std::string_view message) {
    boost::json::object body{{"message", message}, {"traceId", uuid_v4()}};
    return make_response(req, code, boost::json::serialize(body), "application/json");
}

/// Decodes a publish as AWS IoT does, or the error response AWS would give.
std::variant<received_publish, http::response<http::string_body>>
decode_publish(const request& req, std::string topic, const boost::urls::params_view& params) {
    received_publish p;
    p.topic = std::move(topic);
    if (auto ec = aws::validate_topic(p.topic))
        return aws_error(req, 400, "Invalid topic: " + ec.message());
    const auto value = [&params](std::string_view name) -> std::optional<std::string> {
        const auto it = params.find(name);
        if (it == params.end())
            return std::nullopt;
        return std::string((*it).value);
    };
    if (const auto qos = value("qos")) {
        if (*qos != "0" && *qos != "1")
            return aws_error(req, 400, "Invalid qos");
        p.qos = *qos == "1" ? 1 : 0;
    }
    if (const auto retain = value("retain")) {
        if (*retain != "true" && *retain != "false")
            return aws_error(req, 400, "Invalid retain");
        p.retain = *retain == "true";
    }
    if (const auto expiry = value("messageExpiry")) {
        const auto seconds = parse_number<std::uint32_t>(*expiry);
        if (!seconds)
            return aws_error(req, 400, "Invalid messageExpiry");
        p.message_expiry = *seconds;
    }
    p.content_type = value("contentType").value_or("");
    p.response_topic = value("responseTopic").value_or("");
    if (!p.response_topic.empty() && aws::validate_topic(p.response_topic))
        return aws_error(req, 400, "Invalid responseTopic");
    if (const auto it = req.find("x-amz-mqtt5-user-properties"); it != req.end()) {
        auto props = aws::decode_user_properties(it->value());
        if (!props)
            return aws_error(req, 400,
                             "Invalid x-amz-mqtt5-user-properties: expected base64 of a JSON array");
        p.user_properties = std::move(*props);
    }
    if (const auto it = req.find("x-amz-mqtt5-payload-format-indicator"); it != req.end()) {
        p.payload_format = std::string(it->value());
        if (p.payload_format != "UNSPECIFIED_BYTES" && p.payload_format != "UTF8_DATA")
            return aws_error(req, 400, "Invalid x-amz-mqtt5-payload-format-indicator");
    }
    if (const auto it = req.find("x-amz-mqtt5-correlation-data"); it != req.end()) {
        auto data = aws::base64_decode(it->value());
        if (!data)
            return aws_error(req, 400, "Invalid x-amz-mqtt5-correlation-data: expected base64");
        p.correlation_data = std::move(*data);
    }
    if (req.body().size() > aws::max_payload_bytes)
        return aws_error(req, 413, "Payload too large");
    p.payload = req.body();
    return p;
}

/// The value of `name=` in a SigV4 Authorization header ("..., SignedHeaders=a;b, Signature=...").
std::string_view auth_field(std::string_view auth, std::string_view name) {
    for (auto pos = auth.find(name); pos != std::string_view::npos; pos = auth.find(name, pos + 1)) {
        if (pos > 0 && auth[pos - 1] != ' ' && auth[pos - 1] != ',')
            continue;
        auto value = auth.substr(pos + name.size());
        if (value.empty() || value.front() != '=')
            continue;
        value.remove_prefix(1);
        return value.substr(0, value.find_first_of(", "));
    }
    return {};
}

std::optional<std::time_t> parse_amz_date(std::string_view d) {
    if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z')
        return std::nullopt;
    std::tm tm{};
    const auto year = parse_number<int>(d.substr(0, 4));
    const auto month = parse_number<int>(d.substr(4, 2));
    const auto day = parse_number<int>(d.substr(6, 2));
    const auto hour = parse_number<int>(d.substr(9, 2));
    const auto minute = parse_number<int>(d.substr(11, 2));
    const auto second = parse_number<int>(d.substr(13, 2));
    if (!year || !month || !day || !hour || !minute || !second)
        return std::nullopt;
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    return ::timegm(&tm);
}

/// The credentials an access key id names: ones the credentials endpoint issued, or the configured ones.
using credentials_lookup = std::function<std::optional<aws::signing_credentials>(std::string_view key_id)>;

/// Checks a request's SigV4 signature as AWS does; the 403 to answer when it fails.
std::optional<http::response<http::string_body>> check_sigv4(const request& req, const options& o,
                                                             const credentials_lookup& lookup) {
    const std::string_view auth = req[http::field::authorization];
    if (auth.empty())
        return aws_error(req, 403, "Missing Authentication Token");
    if (!auth.starts_with("AWS4-HMAC-SHA256 "))
        return aws_error(req, 403, "Authorization is not AWS4-HMAC-SHA256");
    const std::string scope = std::string(auth_field(auth, "Credential"));
    const auto found = lookup(scope.substr(0, scope.find('/')));
    if (!found)
        return aws_error(req, 403, "The security token included in the request is invalid");
    const auto& creds = *found;
    if (creds.expiration && *creds.expiration <= std::chrono::system_clock::now())
        return aws_error(req, 403, "The security token included in the request is expired");
    const std::string_view date = req["X-Amz-Date"];
    const auto when = parse_amz_date(date);
    if (!when)
        return aws_error(req, 403, "Missing or malformed X-Amz-Date");
    if (std::abs(std::time(nullptr) - *when) > 5 * 60)
        return aws_error(req, 403,
                         "Signature expired: X-Amz-Date is more than 5 minutes from the server's time");
    const std::string expected_scope = creds.access_key_id + "/" + std::string(date.substr(0, 8)) + "/" +
                                       o.sigv4_region + "/" + o.sigv4_service + "/aws4_request";
    if (scope != expected_scope)
        return aws_error(req, 403,
                         "Credential should be scoped to " + o.sigv4_region + "/" + o.sigv4_service +
                             " of the demo's access key and X-Amz-Date's day");
    // The signed headers, from the request as received.
    const std::string signed_list = std::string(auth_field(auth, "SignedHeaders"));
    std::vector<std::string> names;
    for (std::size_t start = 0; start <= signed_list.size();) {
        const auto end = std::min(signed_list.find(';', start), signed_list.size());
        names.push_back(signed_list.substr(start, end - start));
        start = end + 1;
    }
    const auto is_signed = [&names](std::string_view n) {
        return std::find(names.begin(), names.end(), n) != names.end();
    };
    if (!is_signed("host") || !is_signed("x-amz-date"))
        return aws_error(req, 403, "SignedHeaders must include host and x-amz-date");
    if (!creds.session_token.empty() &&
        (req["X-Amz-Security-Token"] != creds.session_token || !is_signed("x-amz-security-token")))
        return aws_error(req, 403, "The security token included in the request is invalid");
    edgeloop::http::header_list fields;
    for (const auto& f : req) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (is_signed(name))
            fields.emplace_back(std::move(name), std::string(f.value()));
    }
    const auto expected = aws::sigv4_sign(std::string(req.method_string()), std::string(req.target()), fields,
                                          req.body(), creds, o.sigv4_region, o.sigv4_service);
    const std::string_view given = auth_field(auth, "Signature");
    if (given.size() != expected.signature.size() ||
        CRYPTO_memcmp(given.data(), expected.signature.data(), given.size()) != 0)
        return aws_error(req, 403,
                         "The request signature we calculated does not match the signature you provided.");
    return std::nullopt;
}

/// The name AWS gives an error status in x-amzn-ErrorType.
std::string_view aws_error_type(unsigned status) {
    switch (status) {
    case 400:
        return "InvalidRequestException";
    case 401:
        return "UnauthorizedException";
    case 403:
        return "ForbiddenException";
    case 404:
        return "ResourceNotFoundException";
    case 429:
        return "ThrottlingException";
    case 503:
        return "ServiceUnavailableException";
    default:
        return "InternalFailureException";
    }
}

/// An error of the credentials provider as AWS sends it: the name (and a URL) in x-amzn-ErrorType.
http::response<http::string_body> credentials_error(const request& req, unsigned code,
                                                    std::string_view message) {
    boost::json::object body{{"message", message}};
    auto res = make_response(req, code, boost::json::serialize(body), "application/json");
    res.set("x-amzn-ErrorType", std::string(aws_error_type(code)) +
                                    ":http://internal.amazon.com/coral/com.amazon.coral.service/");
    return res;
}

/// Random bytes as text of `size` characters from `alphabet`.
std::string random_text(std::size_t size, std::string_view alphabet) {
    std::string bytes(size, '\0');
    check(RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(size)), "RAND_bytes");
    for (auto& c : bytes)
        c = alphabet[static_cast<unsigned char>(c) % alphabet.size()];
    return bytes;
}

std::string iso8601(std::chrono::system_clock::time_point t) {
    const std::time_t when = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&when, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

reply route(const request& req, const publish_sink& on_publish) {
    const auto target = boost::urls::parse_origin_form(req.target());
    if (!target)
        return text_reply(make_status(req, 400));
    const auto params = target->params();
    auto param = [&params](std::string_view name, std::uint64_t fallback) -> std::optional<std::uint64_t> {
        const auto it = params.find(name);
        return it == params.end() ? fallback : parse_number<std::uint64_t>((*it).value);
    };

    reply r;
    const auto sleep = param("sleep", 0);
    // Beyond a day is surely a typo; it would only pin the connection.
    if (!sleep || *sleep > 24 * 3600 * 1000)
        return text_reply(make_status(req, 400));
    r.sleep = std::chrono::milliseconds(*sleep);

    const auto segments = target->segments();
    const std::vector<std::string> path(segments.begin(), segments.end());
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
    auto not_allowed = [&](std::string_view allow) {
        auto res = make_status(req, 405);
        res.set(http::field::allow, allow);
        return text_reply(std::move(res), r.sleep);
    };

    // The bare root answers like /200, so that "/?sleep=<ms>" is useful too.
    if (path.empty())
        return text_reply(make_status(req, 200), r.sleep);
    if (path.size() == 1 &&
        std::all_of(path[0].begin(), path[0].end(), [](char c) { return c >= '0' && c <= '9'; })) {
        const auto code = parse_number<unsigned>(path[0]);
        // 1xx are interim responses: a final answer would have to follow.
        if (!code || *code < 200 || *code > 599)
            return text_reply(make_status(req, 400), r.sleep);
        return text_reply(make_status(req, *code), r.sleep);
    }
    if (path.size() == 2 && path[0] == "bytes") {
        if (!get)
            return not_allowed("GET, HEAD");
        const auto size = parse_number<std::uint64_t>(path[1]);
        if (!size)
            return text_reply(make_status(req, 400), r.sleep);
        r.what = reply::kind::bytes;
        r.size = *size;
        return r;
    }
    if (path.size() == 1 && path[0] == "drip") {
        if (!get)
            return not_allowed("GET, HEAD");
        const auto chunks = param("chunks", 10);
        const auto interval = param("interval_ms", 100);
        const auto size = param("size", 16);
        // An empty chunk would read as the end of the body.
        if (!chunks || *chunks > max_drip_chunks || !interval || *interval > 3600 * 1000 || !size ||
            *size == 0 || *size > max_drip_chunk_size)
            return text_reply(make_status(req, 400), r.sleep);
        r.what = reply::kind::drip;
        r.chunks = *chunks;
        r.interval = std::chrono::milliseconds(*interval);
        r.size = *size;
        return r;
    }
    // The request's header fields, one "name: value" line each (to check what a client sent).
    if (path.size() == 1 && path[0] == "headers") {
        std::string fields;
        for (const auto& f : req)
            fields += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
        return text_reply(make_response(req, 200, std::move(fields)), r.sleep);
    }
    // Redirects: /redirect/<n> chains n hops down to /redirect/0 (200); /redirect?to=<url>&status=<3xx>
    // points anywhere (a loop: to=/redirect?to=...).
    if (!path.empty() && path[0] == "redirect") {
        std::string location;
        unsigned code = 302;
        if (path.size() == 2) {
            const auto hops = parse_number<unsigned>(path[1]);
            if (!hops)
                return text_reply(make_status(req, 400), r.sleep);
            if (*hops == 0)
                return text_reply(make_status(req, 200), r.sleep);
            location = "/redirect/" + std::to_string(*hops - 1);
        } else {
            const auto to = params.find("to");
            const auto status = param("status", 302);
            if (to == params.end() || !status || *status < 300 || *status > 399)
                return text_reply(make_status(req, 400), r.sleep);
            location = (*to).value;
            code = static_cast<unsigned>(*status);
        }
        auto res = make_status(req, code);
        res.set(http::field::location, location);
        return text_reply(std::move(res), r.sleep);
    }
    // The whole request as received: "METHOD TARGET", one "name: value" line per field, a blank line, the
    // body (any method; a chunked body arrives decoded).
    if (path.size() == 1 && path[0] == "request") {
        std::string text = std::string(req.method_string()) + " " + std::string(req.target()) + "\n";
        for (const auto& f : req)
            text += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
        text += "\n" + req.body();
        return text_reply(make_response(req, 200, std::move(text), "application/octet-stream"), r.sleep);
    }
    if (path.size() == 1 && path[0] == "echo") {
        if (req.method() != http::verb::post)
            return not_allowed("POST");
        return text_reply(make_response(req, 200, req.body(), "application/octet-stream"), r.sleep);
    }
    if (path.size() == 2 && path[0] == "topics" && !path[1].empty()) {
        if (req.method() != http::verb::post)
            return not_allowed("POST");
        auto decoded = decode_publish(req, path[1], params);
        if (auto* error = std::get_if<http::response<http::string_body>>(&decoded))
            return text_reply(std::move(*error), r.sleep);
        const unsigned verdict = on_publish(std::get<received_publish>(std::move(decoded)));
        if (verdict == publish_dropped) {
            reply drop;
            drop.drop = true;
            return drop;
        }
        if (verdict != 0 && verdict != 200)
            return text_reply(aws_error(req, verdict, "scripted by publish_hook"), r.sleep);
        return text_reply(
            make_response(req, 200, R"({"message":"OK","traceId":")" + uuid_v4() + "\"}", "application/json"),
            r.sleep);
    }
    return text_reply(make_status(req, 404), r.sleep);
}

// ---------------------------------------------------------------------------------------------------
// Responses.

template <class Stream>
net::awaitable<void> wait_on_timer(connection_of<Stream>& c, std::chrono::milliseconds duration) {
    c.timer_.expires_after(duration);
    co_await c.timer_.async_wait(net::use_awaitable);
}

template <class Stream, class Buffers>
net::awaitable<void> write_raw(connection_of<Stream>& c, const Buffers& buffers) {
    c.tcp().expires_after(io_timeout);
    co_await net::async_write(c.stream_, buffers, net::use_awaitable);
}

/// Answers with Content-Length, the body written in pattern-sized pieces.
template <class Stream>
net::awaitable<void> send_bytes(connection_of<Stream>& c, const request& req, std::uint64_t size) {
    http::response<http::empty_body> res{http::status::ok, req.version()};
    res.set(http::field::server, server_name);
    res.set(http::field::content_type, "application/octet-stream");
    res.content_length(size);
    res.keep_alive(req.keep_alive());
    http::response_serializer<http::empty_body> sr{res};
    c.tcp().expires_after(io_timeout);
    co_await http::async_write_header(c.stream_, sr, net::use_awaitable);
    if (req.method() == http::verb::head)
        co_return;
    for (std::uint64_t sent = 0; sent < size;) {
        const auto piece =
            pattern(sent, static_cast<std::size_t>(std::min<std::uint64_t>(size - sent, pattern_block)));
        co_await write_raw(c, piece);
        sent += piece.size();
    }
}

/// Answers with a chunked body, one chunk per interval. Returns whether the connection can be kept.
template <class Stream>
net::awaitable<bool> send_drip(connection_of<Stream>& c, const request& req, const reply& r) {
    // HTTP/1.0 has no chunked coding: the body then ends where the connection does.
    const bool chunked = req.version() >= 11;
    http::response<http::empty_body> res{http::status::ok, req.version()};
    res.set(http::field::server, server_name);
    res.set(http::field::content_type, "application/octet-stream");
    res.keep_alive(chunked && req.keep_alive());
    res.chunked(chunked);
    http::response_serializer<http::empty_body> sr{res};
    c.tcp().expires_after(io_timeout);
    co_await http::async_write_header(c.stream_, sr, net::use_awaitable);
    if (req.method() == http::verb::head)
        co_return res.keep_alive();

    std::string data(static_cast<std::size_t>(r.size), '\0');
    for (std::uint64_t i = 0; i < r.chunks; ++i) {
        if (i > 0)
            co_await wait_on_timer(c, r.interval);
        for (std::size_t done = 0; done < data.size();) {
            const auto piece = pattern(i * r.size + done, data.size() - done);
            done += net::buffer_copy(net::buffer(data.data() + done, data.size() - done), piece);
        }
        if (chunked)
            co_await write_raw(c, http::make_chunk(net::buffer(data)));
        else
            co_await write_raw(c, net::buffer(data));
    }
    if (chunked)
        co_await write_raw(c, http::make_chunk_last());
    co_return res.keep_alive();
}

/// Returns whether the connection can be kept for another request.
template <class Stream>
net::awaitable<bool> respond(connection_of<Stream>& c, const request& req, const publish_sink& on_publish) {
    reply r = route(req, on_publish);
    if (r.drop)
        co_return false;
    if (r.sleep.count() > 0)
        co_await wait_on_timer(c, r.sleep);
    switch (r.what) {
    case reply::kind::bytes:
        co_await send_bytes(c, req, r.size);
        co_return req.keep_alive();
    case reply::kind::drip:
        co_return co_await send_drip(c, req, r);
    case reply::kind::text:
        break;
    }
    if (req.method() == http::verb::head)
        r.text.body().clear(); // Content-Length stays: it describes what GET would send
    c.tcp().expires_after(io_timeout);
    co_await http::async_write(c.stream_, r.text, net::use_awaitable);
    co_return r.text.keep_alive();
}

template <class Stream>
net::awaitable<void> close_gracefully(connection_of<Stream>& c) {
    if constexpr (is_tls<Stream>) {
        beast::error_code ec;
        c.tcp().expires_after(shutdown_timeout);
        co_await c.stream_.async_shutdown(net::redirect_error(net::use_awaitable, ec));
    } else {
        // Half-close: the client reads the end of the response before seeing the connection end.
        beast::error_code ec;
        c.tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
        co_return;
    }
}

bool is_http_error(const beast::error_code& ec) {
    return ec.category() == beast::error_code(http::error::bad_target).category();
}

// ---------------------------------------------------------------------------------------------------
// Device Shadow (AWS IoT's thing-shadow REST API), in memory.

struct shadow_state {
    boost::json::object desired;
    boost::json::object reported;
    boost::json::object metadata_desired;
    boost::json::object metadata_reported;
    std::uint64_t version = 0; ///< kept after a delete, as AWS does
    bool exists = false;
};

std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

http::response<http::string_body> shadow_error(const request& req, unsigned code, std::string_view message) {
    boost::json::object body{{"code", code}, {"message", message}, {"timestamp", unix_now()}};
    return make_response(req, code, boost::json::serialize(body), "application/json");
}

http::response<http::string_body> json_response(const request& req, const boost::json::object& body) {
    return make_response(req, 200, boost::json::serialize(body), "application/json");
}

/// Merges `update` into `target` as the shadow service does: null removes a key, objects merge key by key,
/// anything else replaces. `metadata` gets {"timestamp": now} for each value set.
void merge(boost::json::object& target, boost::json::object& metadata, const boost::json::object& update,
           std::int64_t now) {
    for (const auto& [key, value] : update) {
        if (value.is_null()) {
            target.erase(key);
            metadata.erase(key);
        } else if (value.is_object()) {
            auto* sub = target.if_contains(key);
            if (sub == nullptr || !sub->is_object())
                target[key] = boost::json::object();
            auto* meta = metadata.if_contains(key);
            if (meta == nullptr || !meta->is_object() || meta->as_object().contains("timestamp"))
                metadata[key] = boost::json::object();
            merge(target[key].as_object(), metadata[key].as_object(), value.get_object(), now);
        } else {
            target[key] = value;
            metadata[key] = boost::json::object{{"timestamp", now}};
        }
    }
}

/// The desired values that reported does not match (objects compared key by key).
boost::json::object delta(const boost::json::object& desired, const boost::json::object& reported) {
    boost::json::object out;
    for (const auto& [key, want] : desired) {
        const auto* have = reported.if_contains(key);
        if (have && want.is_object() && have->is_object()) {
            auto sub = delta(want.get_object(), have->get_object());
            if (!sub.empty())
                out[key] = std::move(sub);
        } else if (have == nullptr || *have != want) {
            out[key] = want;
        }
    }
    return out;
}

struct shadow_store {
    std::map<std::pair<std::string, std::string>, shadow_state> shadows;

    /// The answer to a request under /things/ or /api/things/shadow/, none for other paths.
    std::optional<http::response<http::string_body>> handle(const request& req) {
        const auto target = boost::urls::parse_origin_form(req.target());
        if (!target)
            return std::nullopt;
        const auto segments = target->segments();
        const std::vector<std::string> path(segments.begin(), segments.end());
        const auto params = target->params();
        const auto param = [&params](std::string_view name) {
            const auto it = params.find(name);
            return it == params.end() ? std::string() : std::string((*it).value);
        };
        if (path.size() == 5 && path[0] == "api" && path[1] == "things" && path[2] == "shadow" &&
            path[3] == "ListNamedShadowsForThing") {
            if (req.method() != http::verb::get)
                return shadow_error(req, 405, "Method not allowed");
            return list(req, path[4], param("nextToken"), param("pageSize"));
        }
        if (path.size() != 3 || path[0] != "things" || path[2] != "shadow")
            return std::nullopt;
        const std::string& thing = path[1];
        const std::string name = param("name");
        if (aws::validate_thing_name(thing))
            return shadow_error(req, 400, "Invalid thing name");
        if (aws::validate_shadow_name(name))
            return shadow_error(req, 400, "Invalid shadow name");
        auto& shadow = shadows[{thing, name}];
        const std::string label = name.empty() ? thing : thing + "~" + name;
        switch (req.method()) {
        case http::verb::get:
            if (!shadow.exists)
                return shadow_error(req, 404, "No shadow exists with name: '" + label + "'");
            return json_response(req, document(shadow));
        case http::verb::post:
            return update(req, shadow);
        case http::verb::delete_: {
            if (!shadow.exists)
                return shadow_error(req, 404, "No shadow exists with name: '" + label + "'");
            const auto version = shadow.version;
            shadow = shadow_state{};
            shadow.version = version;
            return json_response(req, {{"version", version}, {"timestamp", unix_now()}});
        }
        default:
            return shadow_error(req, 405, "Method not allowed");
        }
    }

    static boost::json::object document(const shadow_state& s) {
        boost::json::object state;
        boost::json::object metadata;
        if (!s.desired.empty()) {
            state["desired"] = s.desired;
            metadata["desired"] = s.metadata_desired;
        }
        if (!s.reported.empty()) {
            state["reported"] = s.reported;
            metadata["reported"] = s.metadata_reported;
        }
        if (auto d = delta(s.desired, s.reported); !d.empty())
            state["delta"] = std::move(d);
        return {{"state", std::move(state)},
                {"metadata", std::move(metadata)},
                {"version", s.version},
                {"timestamp", unix_now()}};
    }

    static http::response<http::string_body> update(const request& req, shadow_state& s) {
        boost::system::error_code ec;
        const auto body = boost::json::parse(req.body(), ec);
        const auto* doc = ec ? nullptr : body.if_object();
        if (doc == nullptr)
            return shadow_error(req, 400, "Payload contains invalid json");
        const auto* state = doc->if_contains("state");
        if (state == nullptr || !state->is_object())
            return shadow_error(req, 400, "Missing required node: state");
        if (const auto* version = doc->if_contains("version")) {
            // A shadow that never existed is at version 0 here.
            if (!version->is_number() || version->to_number<double>() != static_cast<double>(s.version))
                return shadow_error(req, 409, "Version conflict");
        }
        const auto now = unix_now();
        boost::json::object metadata;
        for (const char* part : {"desired", "reported"}) {
            const auto* update = state->get_object().if_contains(part);
            if (update == nullptr)
                continue;
            auto& target = part[0] == 'd' ? s.desired : s.reported;
            auto& meta = part[0] == 'd' ? s.metadata_desired : s.metadata_reported;
            if (update->is_null()) {
                target.clear();
                meta.clear();
            } else if (update->is_object()) {
                boost::json::object changed;
                merge(target, meta, update->get_object(), now);
                boost::json::object scratch;
                merge(scratch, changed, update->get_object(), now);
                metadata[part] = std::move(changed);
            } else {
                return shadow_error(req, 400, std::string("State node must be an object: ") + part);
            }
        }
        s.exists = true;
        ++s.version;
        boost::json::object out{
            {"state", *state}, {"metadata", std::move(metadata)}, {"version", s.version}, {"timestamp", now}};
        if (const auto* token = doc->if_contains("clientToken"))
            out["clientToken"] = *token;
        return json_response(req, out);
    }

    http::response<http::string_body> list(const request& req, const std::string& thing,
                                           const std::string& token, const std::string& page_size) {
        if (aws::validate_thing_name(thing))
            return shadow_error(req, 400, "Invalid thing name");
        std::vector<std::string> names;
        for (const auto& [key, state] : shadows)
            if (key.first == thing && !key.second.empty() && state.exists)
                names.push_back(key.second);
        const auto start = token.empty() ? std::optional<std::size_t>(0) : parse_number<std::size_t>(token);
        const auto size =
            page_size.empty() ? std::optional<std::size_t>(25) : parse_number<std::size_t>(page_size);
        if (!start || !size || *size == 0 || *size > 100 || *start > names.size())
            return shadow_error(req, 400, "Invalid nextToken or pageSize");
        boost::json::array results;
        const auto end = std::min(names.size(), *start + *size);
        for (auto i = *start; i < end; ++i)
            results.emplace_back(names[i]);
        boost::json::object out{{"results", std::move(results)}, {"timestamp", unix_now()}};
        if (end < names.size())
            out["nextToken"] = std::to_string(end);
        return json_response(req, out);
    }
};

} // namespace

// ---------------------------------------------------------------------------------------------------
// The server's state. Sessions and pending handlers hold it by shared_ptr: it outlives the server object
// as long as anything on the executor still refers to it.

struct server::impl : std::enable_shared_from_this<server::impl> {
    impl(net::any_io_executor ex, options opts);

    void start();
    void stop();
    void close_all();
    void launch(tcp::socket socket);
    template <class Stream, class... Args>
    void launch_as(Args&&... args);
    void record_tls(SSL* ssl);

    net::any_io_executor executor_;
    options opts_;
    private_dir dir_;
    std::string ca_file_;
    openssl_ptr<EVP_PKEY> ca_key_;
    openssl_ptr<X509> ca_cert_;
    std::string alpn_wire_; ///< opts_.alpn in wire format, read by select_alpn
    ssl::context tls_{ssl::context::tls_server};
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopped_{false};
    std::atomic<std::size_t> accepted_{0};
    std::atomic<std::size_t> served_{0};
    std::size_t throttled_ = 0; ///< publishes answered 429 so far (options::throttle_publishes)

    mutable std::mutex mutex_; ///< guards the members below
    std::vector<std::weak_ptr<connection>> live_;
    std::string last_sni_;
    std::string last_alpn_;
    std::optional<received_publish> last_publish_;
    std::map<std::string, std::string> retained_;
    shadow_store shadows_;
    std::map<std::string, aws::signing_credentials, std::less<>> issued_; ///< by access key id
    std::size_t credentials_failed_ = 0;
    std::string last_thing_name_;

    /// GET /role-aliases/<alias>/credentials (options::credentials_role_alias).
    http::response<http::string_body> issue_credentials(const request& req, std::string_view alias,
                                                        bool client_certificate);
    std::optional<aws::signing_credentials> find_credentials(std::string_view key_id) const;
    publish_sink on_publish_ = [this](received_publish p) -> unsigned {
        const unsigned verdict = opts_.publish_hook ? opts_.publish_hook(p) : 0;
        if (verdict != 0 && verdict != 200 && verdict != publish_dropped)
            return verdict;
        std::lock_guard lock(mutex_);
        if (p.retain && p.payload.empty())
            retained_.erase(p.topic);
        else if (p.retain)
            retained_[p.topic] = p.payload;
        last_publish_ = std::move(p);
        return verdict;
    };
};

namespace {

/// CN of the peer's certificate subject, or empty.
std::string peer_common_name(SSL* ssl) {
    const X509* peer = SSL_get0_peer_certificate(ssl);
    if (peer == nullptr)
        return {};
    char cn[256] = {};
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    return n > 0 ? std::string(cn, static_cast<std::size_t>(n)) : std::string();
}

template <class Stream>
net::awaitable<void> serve(std::shared_ptr<server::impl> self, std::shared_ptr<connection_of<Stream>> conn) {
    auto& c = *conn;
    bool client_certificate = false;
    std::string client_cn;
    if constexpr (is_tls<Stream>) {
        beast::error_code ec;
        c.tcp().expires_after(io_timeout);
        co_await c.stream_.async_handshake(ssl::stream_base::server,
                                           net::redirect_error(net::use_awaitable, ec));
        self->record_tls(c.stream_.native_handle());
        // A refused or broken handshake concerns that client alone: drop its connection quietly.
        if (ec)
            co_return;
        // Verified in the handshake (verify_peer): a certificate here is one of a trusted CA.
        client_certificate = SSL_get0_peer_certificate(c.stream_.native_handle()) != nullptr;
        client_cn = peer_common_name(c.stream_.native_handle());
    }
    // Publishes on this connection carry its client certificate's CN (received_publish::client_cn).
    publish_sink sink = self->on_publish_;
    if (!client_cn.empty())
        sink = [&self, &client_cn](received_publish p) {
            p.client_cn = client_cn;
            return self->on_publish_(std::move(p));
        };

    beast::flat_buffer buffer;
    std::size_t requests_here = 0;
    for (bool keep_alive = true; keep_alive && !self->stopped_;) {
        beast::error_code ec;
        http::request_parser<http::string_body> parser;
        parser.body_limit(max_request_body);
        c.tcp().expires_after(io_timeout);
        co_await http::async_read_header(c.stream_, buffer, parser,
                                         net::redirect_error(net::use_awaitable, ec));
        if (!ec && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
            http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
            co_await http::async_write(c.stream_, go_on, net::use_awaitable);
        }
        if (!ec && !parser.is_done())
            co_await http::async_read(c.stream_, buffer, parser, net::redirect_error(net::use_awaitable, ec));
        if (ec == http::error::end_of_stream)
            break;
        if (ec) {
            if (is_http_error(ec)) {
                request bad;
                bad.keep_alive(false);
                auto res = make_status(bad, 400);
                co_await http::async_write(c.stream_, res, net::use_awaitable);
                break;
            }
            co_return; // the transport failed or timed out: nothing more can be said on it
        }
        ++self->served_;
        const auto& req = parser.get();
        const bool provider = !self->opts_.credentials_role_alias.empty();
        if (provider) {
            const auto target = boost::urls::parse_origin_form(req.target());
            if (target) {
                const auto segments = target->segments();
                const std::vector<std::string> path(segments.begin(), segments.end());
                if (path.size() == 3 && path[0] == "role-aliases" && path[2] == "credentials") {
                    auto res = self->issue_credentials(req, path[1], client_certificate);
                    c.tcp().expires_after(io_timeout);
                    co_await http::async_write(c.stream_, res, net::use_awaitable);
                    keep_alive = res.keep_alive();
                    continue;
                }
            }
        }
        if (self->opts_.sigv4_credentials || provider) {
            const auto lookup = [&self](std::string_view id) { return self->find_credentials(id); };
            if (auto refused = check_sigv4(req, self->opts_, lookup)) {
                c.tcp().expires_after(io_timeout);
                co_await http::async_write(c.stream_, *refused, net::use_awaitable);
                keep_alive = refused->keep_alive();
                continue;
            }
        }
        if (req.method() == http::verb::post && req.target().starts_with("/topics/") &&
            self->throttled_ < self->opts_.throttle_publishes) {
            ++self->throttled_;
            auto res =
                make_response(req, 429, R"({"message":"Rate exceeded","traceId":")" + uuid_v4() + "\"}",
                              "application/json");
            res.set(http::field::retry_after, "1");
            c.tcp().expires_after(io_timeout);
            co_await http::async_write(c.stream_, res, net::use_awaitable);
            keep_alive = res.keep_alive();
            continue;
        }
        std::optional<http::response<http::string_body>> shadow_answer;
        {
            std::lock_guard lock(self->mutex_);
            shadow_answer = self->shadows_.handle(req);
        }
        if (shadow_answer) {
            c.tcp().expires_after(io_timeout);
            co_await http::async_write(c.stream_, *shadow_answer, net::use_awaitable);
            keep_alive = shadow_answer->keep_alive();
        } else {
            keep_alive = co_await respond(c, req, sink);
        }
        if (self->opts_.close_after_requests != 0 && ++requests_here >= self->opts_.close_after_requests)
            break;
    }
    co_await close_gracefully(c);
}

net::awaitable<void> accept_loop(std::shared_ptr<server::impl> self) {
    for (;;) {
        beast::error_code ec;
        tcp::socket socket =
            co_await self->acceptor_.async_accept(net::redirect_error(net::use_awaitable, ec));
        if (self->stopped_ || !self->acceptor_.is_open())
            co_return;
        if (ec) {
            // Typically out of descriptors, which passes: wait a little rather than spin.
            net::steady_timer pause(self->executor_, 50ms);
            co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
            continue;
        }
        ++self->accepted_;
        self->launch(std::move(socket));
    }
}

} // namespace

server::impl::impl(net::any_io_executor ex, options opts)
    : executor_(std::move(ex))
    , opts_(std::move(opts))
    , acceptor_(executor_) {
    ca_key_ = make_key();
    ca_cert_ = make_certificate(ca_key_.get(), "edgeloop devserver CA",
                                {{NID_basic_constraints, "critical,CA:TRUE"},
                                 {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                 {NID_subject_key_identifier, "hash"},
                                 {NID_authority_key_identifier, "keyid:always"}});
    auto key = make_key();
    auto cert = make_certificate(key.get(), "localhost",
                                 {{NID_basic_constraints, "critical,CA:FALSE"},
                                  {NID_key_usage, "critical,digitalSignature"},
                                  {NID_ext_key_usage, "serverAuth"},
                                  {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"},
                                  {NID_subject_key_identifier, "hash"},
                                  {NID_authority_key_identifier, "keyid:always"}},
                                 ca_cert_.get(), ca_key_.get());
    ca_file_ = (std::filesystem::path(dir_.path()) / "ca.crt").string();
    write_file(ca_file_, certificate_pem(ca_cert_.get()), 0644);

    SSL_CTX* ctx = tls_.native_handle();
    check(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION), "SSL_CTX_set_min_proto_version");
    check(SSL_CTX_use_certificate(ctx, cert.get()), "SSL_CTX_use_certificate");
    check(SSL_CTX_use_PrivateKey(ctx, key.get()), "SSL_CTX_use_PrivateKey");
    // Without a session id context, resuming a session fails as soon as client certificates are verified.
    constexpr std::string_view session_context = server_name;
    check(SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>(session_context.data()),
                                         static_cast<unsigned int>(session_context.size())),
          "SSL_CTX_set_session_id_context");
    if (opts_.require_client_certificate) {
        check(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca_cert_.get()), "X509_STORE_add_cert");
        check(SSL_CTX_add_client_CA(ctx, ca_cert_.get()), "SSL_CTX_add_client_CA");
        if (!opts_.client_ca_file.empty())
            check(SSL_CTX_load_verify_file(ctx, opts_.client_ca_file.c_str()), "SSL_CTX_load_verify_file");
        tls_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    } else if (!opts_.credentials_role_alias.empty()) {
        // Asked of every client, required by the credentials endpoint only (SigV4 requests need none).
        check(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca_cert_.get()), "X509_STORE_add_cert");
        check(SSL_CTX_add_client_CA(ctx, ca_cert_.get()), "SSL_CTX_add_client_CA");
        if (!opts_.client_ca_file.empty())
            check(SSL_CTX_load_verify_file(ctx, opts_.client_ca_file.c_str()), "SSL_CTX_load_verify_file");
        tls_.set_verify_mode(ssl::verify_peer);
    }
    if (!opts_.alpn.empty()) {
        for (const auto& protocol : opts_.alpn) {
            if (protocol.empty() || protocol.size() > 255)
                throw std::invalid_argument("devserver: ALPN protocol names are 1 to 255 bytes");
            alpn_wire_ += static_cast<char>(protocol.size());
            alpn_wire_ += protocol;
        }
        SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &alpn_wire_);
        SSL_CTX_set_client_hello_cb(ctx, require_alpn, nullptr);
    }

    const tcp::endpoint endpoint{net::ip::make_address(opts_.address), opts_.port};
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    if (opts_.listen)
        acceptor_.listen(net::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
}

void server::impl::start() {
    net::co_spawn(executor_, accept_loop(shared_from_this()), [](std::exception_ptr) {});
}

void server::impl::launch(tcp::socket socket) {
    if (opts_.tls)
        launch_as<tls_stream>(std::move(socket), tls_);
    else
        launch_as<beast::tcp_stream>(std::move(socket));
}

template <class Stream, class... Args>
void server::impl::launch_as(Args&&... args) {
    auto c = std::make_shared<connection_of<Stream>>(executor_, std::forward<Args>(args)...);
    {
        std::lock_guard lock(mutex_);
        // stop() may have swept the connections between the accept completing and now.
        if (stopped_)
            return;
        std::erase_if(live_, [](const std::weak_ptr<connection>& w) { return w.expired(); });
        live_.push_back(c);
    }
    // A session ends at its first failure, which concerns its client alone: there is nobody to tell.
    net::co_spawn(executor_, serve(shared_from_this(), std::move(c)), [](std::exception_ptr) {});
}

void server::impl::stop() {
    stopped_ = true;
    // The acceptor and the sockets may only be touched where their handlers run: here when that is this
    // thread or no thread at all (the loop is stopped), through the executor otherwise.
    const auto* io = executor_.target<net::io_context::executor_type>();
    if (io && (io->running_in_this_thread() || io->context().stopped()))
        close_all();
    else
        net::post(executor_, [self = shared_from_this()] { self->close_all(); });
}

void server::impl::close_all() {
    std::lock_guard lock(mutex_);
    beast::error_code ec;
    acceptor_.close(ec);
    for (const auto& weak : live_)
        if (auto c = weak.lock())
            c->close();
    live_.clear();
}

void server::impl::record_tls(SSL* ssl) {
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const unsigned char* alpn = nullptr;
    unsigned int alpn_size = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_size);
    std::lock_guard lock(mutex_);
    last_sni_ = sni ? sni : "";
    last_alpn_ = alpn ? std::string(reinterpret_cast<const char*>(alpn), alpn_size) : std::string();
}

// ---------------------------------------------------------------------------------------------------

server::server(net::any_io_executor ex, options opts)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opts))) {
    if (impl_->opts_.listen)
        impl_->start();
}

void server::listen() {
    net::post(impl_->executor_, [self = impl_] {
        beast::error_code ec;
        self->acceptor_.listen(net::socket_base::max_listen_connections, ec);
        if (!ec)
            self->start();
    });
}

server::~server() {
    impl_->stop();
    impl_->dir_.remove();
}

std::uint16_t server::port() const noexcept {
    return impl_->port_;
}

std::string server::url(std::string_view path) const {
    const std::string& host = impl_->opts_.address;
    const bool v6 = host.find(':') != std::string::npos;
    return (impl_->opts_.tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" +
           std::to_string(impl_->port_) + std::string(path);
}

const std::string& server::ca_file() const noexcept {
    return impl_->ca_file_;
}

std::pair<std::string, std::string> server::issue_client_certificate_pem() const {
    auto key = make_key();
    auto cert = make_certificate(key.get(), "edgeloop devserver client",
                                 {{NID_basic_constraints, "critical,CA:FALSE"},
                                  {NID_key_usage, "critical,digitalSignature"},
                                  {NID_ext_key_usage, "clientAuth"},
                                  {NID_subject_key_identifier, "hash"},
                                  {NID_authority_key_identifier, "keyid:always"}},
                                 impl_->ca_cert_.get(), impl_->ca_key_.get());
    return {certificate_pem(cert.get()), private_key_pem(key.get())};
}

std::pair<std::string, std::string> server::issue_client_certificate(const std::string& dir) const {
    const auto [cert_pem, key_pem] = issue_client_certificate_pem();
    std::filesystem::create_directories(dir);
    std::pair<std::string, std::string> paths{(std::filesystem::path(dir) / "client.crt").string(),
                                              (std::filesystem::path(dir) / "client.key").string()};
    write_file(paths.first, cert_pem, 0644);
    write_file(paths.second, key_pem, 0600);
    return paths;
}

http::response<http::string_body> server::impl::issue_credentials(const request& req, std::string_view alias,
                                                                  bool client_certificate) {
    if (req.method() != http::verb::get)
        return credentials_error(req, 405, "Only GET is allowed");
    if (!client_certificate)
        return credentials_error(req, 403, "A client certificate is required");
    const std::string thing(req["x-amzn-iot-thingname"]);
    std::lock_guard lock(mutex_);
    last_thing_name_ = thing;
    if (credentials_failed_ < opts_.credentials_failures) {
        ++credentials_failed_;
        return credentials_error(req, opts_.credentials_failure_status, "Failure requested by the test");
    }
    if (alias != opts_.credentials_role_alias)
        return credentials_error(req, 404, "Role alias does not exist");
    if (!thing.empty() && aws::validate_thing_name(thing))
        return credentials_error(req, 400, "Invalid thing name");
    constexpr std::string_view upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    constexpr std::string_view any = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    aws::signing_credentials creds{.access_key_id = "ASIA" + random_text(16, upper),
                                   .secret_access_key = random_text(40, any),
                                   .session_token = random_text(200, any),
                                   .expiration = std::chrono::time_point_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now() + opts_.credentials_lifetime)};
    boost::json::object body{{"credentials",
                              {{"accessKeyId", creds.access_key_id},
                               {"secretAccessKey", creds.secret_access_key},
                               {"sessionToken", creds.session_token},
                               {"expiration", iso8601(*creds.expiration)}}}};
    issued_.emplace(creds.access_key_id, std::move(creds));
    return make_response(req, 200, boost::json::serialize(body), "application/json");
}

std::optional<aws::signing_credentials> server::impl::find_credentials(std::string_view key_id) const {
    std::lock_guard lock(mutex_);
    if (const auto it = issued_.find(key_id); it != issued_.end())
        return it->second;
    if (opts_.sigv4_credentials && opts_.sigv4_credentials->access_key_id == key_id)
        return opts_.sigv4_credentials;
    return std::nullopt;
}

std::size_t server::credentials_issued() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->issued_.size();
}

std::string server::last_thing_name() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->last_thing_name_;
}

void server::stop() {
    impl_->stop();
}

std::size_t server::connections_accepted() const noexcept {
    return impl_->accepted_;
}

std::size_t server::requests_served() const noexcept {
    return impl_->served_;
}

std::string server::last_sni() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->last_sni_;
}

std::string server::last_alpn() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->last_alpn_;
}

std::optional<received_publish> server::last_publish() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->last_publish_;
}

std::optional<std::string> server::retained_message(const std::string& topic) const {
    std::lock_guard lock(impl_->mutex_);
    const auto it = impl_->retained_.find(topic);
    if (it == impl_->retained_.end())
        return std::nullopt;
    return it->second;
}

} // namespace edgeloop::devserver
