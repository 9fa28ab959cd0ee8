// tls::context turns every bad input into a config_error naming the file, before any connection.
#include <edgeloop/core/log.hpp>
#include <edgeloop/tls/context.hpp>

#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace tls = edgeloop::tls;
using edgeloop::test::pki;

namespace {

/// Builds a context and returns the error it threw (or a default error_code when it did not).
std::pair<boost::system::error_code, std::string> try_build(tls::options o) {
    try {
        tls::context ctx(std::move(o));
    } catch (const tls::config_error& e) {
        return {e.code(), e.what()};
    }
    return {};
}

std::string write_temp(const std::string& name, const std::string& content) {
    static const std::string dir = edgeloop::test::make_temp_dir("tls_options");
    const std::string path = dir + "/" + name;
    std::ofstream(path) << content;
    return path;
}

/// Everything written to stderr (fd 2) while `f` runs.
template <typename F>
std::string capture_stderr(F&& f) {
    const std::string path = write_temp("stderr.txt", "");
    std::fflush(stderr);
    const int saved = ::dup(2);
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    BOOST_REQUIRE(saved >= 0 && fd >= 0);
    ::dup2(fd, 2);
    ::close(fd);
    f();
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    return edgeloop::test::read_file(path);
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls_options)

BOOST_AUTO_TEST_CASE(defaults_are_secure_and_build) {
    tls::options o;
    BOOST_TEST(!o.insecure);
    BOOST_TEST(o.verify_host);
    BOOST_TEST(o.sni);
    tls::context ctx(o);
    BOOST_TEST(SSL_CTX_get_min_proto_version(ctx.native().native_handle()) == TLS1_2_VERSION);
    BOOST_TEST((SSL_CTX_get_verify_mode(ctx.native().native_handle()) & SSL_VERIFY_PEER) != 0);
}

BOOST_AUTO_TEST_CASE(missing_ca_file_names_the_file) {
    auto [ec, what] = try_build({.ca_file = "/nonexistent/ca.pem"});
    BOOST_TEST(ec == make_error_code(tls::error::file_not_found));
    BOOST_TEST(what.find("/nonexistent/ca.pem") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(directory_as_ca_file_is_unreadable) {
    auto [ec, what] = try_build({.ca_file = "/tmp"});
    BOOST_TEST(ec == make_error_code(tls::error::file_unreadable));
}

BOOST_AUTO_TEST_CASE(non_pem_ca_file_is_refused) {
    auto [ec, what] = try_build({.ca_file = write_temp("junk.pem", "this is not a certificate\n")});
    BOOST_TEST(ec == make_error_code(tls::error::not_pem));
    BOOST_TEST(what.find("junk.pem") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(pem_without_certificate_is_refused) {
    auto [ec, what] =
        try_build({.ca_file = write_temp("empty.pem",
                                         "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")});
    BOOST_TEST(ec == make_error_code(tls::error::no_certificate_in_file));
}

BOOST_AUTO_TEST_CASE(missing_ca_dir_is_refused) {
    auto [ec, what] = try_build({.ca_dir = "/nonexistent-dir"});
    BOOST_TEST(ec == make_error_code(tls::error::file_not_found));
}

BOOST_AUTO_TEST_CASE(valid_client_identity_loads) {
    auto [ec, what] = try_build({.ca_file = pki::path("ca.crt"),
                                 .cert_file = pki::path("client.crt"),
                                 .key_file = pki::path("client.key")});
    BOOST_TEST(!ec, what);
}

BOOST_AUTO_TEST_CASE(encrypted_key_loads_with_its_passphrase) {
    auto [ec, what] = try_build({.cert_file = pki::path("client.crt"),
                                 .key_file = pki::path("client-enc.key"),
                                 .key_passphrase = "edgeloop-test"});
    BOOST_TEST(!ec, what);
}

BOOST_AUTO_TEST_CASE(encrypted_key_with_wrong_passphrase_is_refused) {
    auto [ec, what] = try_build({.cert_file = pki::path("client.crt"),
                                 .key_file = pki::path("client-enc.key"),
                                 .key_passphrase = "not-the-passphrase"});
    BOOST_TEST(ec == make_error_code(tls::error::wrong_passphrase));
    BOOST_TEST(what.find("client-enc.key") != std::string::npos);
    BOOST_TEST(what.find("not-the-passphrase") == std::string::npos, "passphrase leaked into the message");
}

BOOST_AUTO_TEST_CASE(encrypted_key_without_passphrase_never_prompts) {
    auto [ec, what] =
        try_build({.cert_file = pki::path("client.crt"), .key_file = pki::path("client-enc.key")});
    BOOST_TEST(ec == make_error_code(tls::error::passphrase_required));
}

BOOST_AUTO_TEST_CASE(key_of_another_certificate_is_a_mismatch) {
    auto [ec, what] = try_build({.cert_file = pki::path("client.crt"), .key_file = pki::path("server.key")});
    BOOST_TEST(ec == make_error_code(tls::error::key_mismatch));
    BOOST_TEST(what.find("server.key") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(certificate_without_key_is_refused) {
    auto [ec, what] = try_build({.cert_file = pki::path("client.crt")});
    BOOST_TEST(ec == make_error_code(tls::error::key_without_certificate));
}

BOOST_AUTO_TEST_CASE(key_file_that_is_a_certificate_is_not_a_key) {
    auto [ec, what] = try_build({.cert_file = pki::path("client.crt"), .key_file = pki::path("client.crt")});
    BOOST_TEST(ec == make_error_code(tls::error::not_pem));
}

BOOST_AUTO_TEST_CASE(empty_alpn_name_is_refused) {
    auto [ec, what] = try_build({.alpn = {"http/1.1", ""}});
    BOOST_TEST(ec == make_error_code(tls::error::bad_alpn));
}

BOOST_AUTO_TEST_CASE(key_accessible_by_others_is_warned_about_with_file_and_mode) {
    const auto saved = edgeloop::core::log::level();
    edgeloop::core::log::set_level(edgeloop::core::log_level::warn);
    for (const mode_t mode : {0644, 0640, 0604, 0600, 0400}) {
        const auto key = write_temp("mode.key", edgeloop::test::read_file(pki::path("client.key")));
        BOOST_REQUIRE(::chmod(key.c_str(), mode) == 0);
        const auto log = capture_stderr(
            [&] { tls::context ctx({.cert_file = pki::path("client.crt"), .key_file = key}); });
        char text[8];
        std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
        const bool open = (mode & 077) != 0;
        BOOST_TEST((log.find("client key " + key + " has mode " + text) != std::string::npos) == open,
                   text << ": " << log);
    }
    edgeloop::core::log::set_level(saved);
}

BOOST_AUTO_TEST_SUITE_END()
