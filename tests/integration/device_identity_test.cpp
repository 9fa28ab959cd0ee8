// Client identities named by tls::identity: PEM in memory, DER files, keys and certificates in a
// PKCS#11 token (SoftHSM2, made at test time by tests/pki/softhsm-token.sh), against nginx
// (ssl_verify_client on) and the devserver; and the configuration errors a token can give.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>
#include <edgeloop/tls/identity.hpp>

#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>

// Under the asan preset: libp11 (the pkcs11 engine's library, not ours) leaks a few allocations on the
// paths where a key is not found; LeakSanitizer would fail the whole test binary at exit for them.
extern "C" const char* __lsan_default_suppressions() {
    return "leak:libp11.so\n";
}

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;

namespace {

/// The config_error the options give (a default-constructed one when none).
tls::config_error config_error_of(const tls::options& o) {
    try {
        tls::context ctx(o);
    } catch (const tls::config_error& e) {
        return e;
    }
    return tls::config_error({}, "");
}

/// GET /hello.txt from nginx's mutual-TLS port: 200 only with a client certificate of the test CA
/// (nginx answers 400 without one, see docs/test-peers.md).
fetch_outcome fetch_from_nginx(const tls::options& o) {
    nginx_server nginx;
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context(o));
    return fetch(ioc, client, get("https://localhost:" + std::to_string(nginx.mtls_port()) + "/hello.txt"));
}

tls::options with(tls::identity id) {
    return {.ca_file = pki::path("ca.crt"), .client_identity = std::move(id)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(device_identity)

BOOST_AUTO_TEST_CASE(pem_in_memory_is_presented_to_nginx) {
    auto out = fetch_from_nginx(
        with(tls::identity::pem(read_file(pki::path("client.crt")), read_file(pki::path("client.key")))));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_CASE(encrypted_pem_in_memory_needs_its_passphrase) {
    auto id = [](std::string pass) {
        return with(tls::identity::pem(read_file(pki::path("client.crt")),
                                       read_file(pki::path("client-enc.key")), std::move(pass)));
    };
    BOOST_TEST(config_error_of(id("edgeloop-test")).code() == boost::system::error_code());
    auto e = config_error_of(id("nope"));
    BOOST_TEST(e.code() == make_error_code(tls::error::wrong_passphrase), e.what());
    BOOST_TEST(std::string(e.what()).find("nope") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(der_files_are_presented_to_nginx) {
    const std::string dir = make_temp_dir("edgeloop-der-");
    const std::string command = "openssl x509 -in " + pki::path("client.crt") + " -outform DER -out " + dir +
                                "/c.der && openssl pkcs8 -topk8 -nocrypt -in " + pki::path("client.key") +
                                " -outform DER -out " + dir + "/k.der";
    BOOST_REQUIRE(std::system(command.c_str()) == 0);
    auto out = fetch_from_nginx(with(tls::identity::files(dir + "/c.der", dir + "/k.der")));
    std::filesystem::remove_all(dir);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_CASE(pkcs11_key_and_certificate_from_the_token_to_nginx) {
    auto out = fetch_from_nginx(with(tls::identity::pkcs11(softhsm::uri(), softhsm::uri("device", "cert"),
                                                           {.file = softhsm::pin_file()})));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body == "hello from nginx\n");
}

BOOST_AUTO_TEST_CASE(pkcs11_certificate_defaults_to_the_key_object) {
    auto out = fetch_from_nginx(with(tls::identity::pkcs11(softhsm::uri(), {}, {.value = "1234"})));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_CASE(pkcs11_key_with_certificate_file_to_the_devserver) {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server(
        ioc.get_executor(), {.require_client_certificate = true, .client_ca_file = pki::path("ca.crt")});
    ::setenv("EDGELOOP_TEST_PIN", "1234", 1);
    tls::options o{.ca_file = server.ca_file(),
                   .client_identity = tls::identity::pkcs11(softhsm::uri(), pki::path("client.crt"),
                                                            {.env = "EDGELOOP_TEST_PIN"})};
    http::client client(ioc.get_executor(), tls::context(o));
    auto first = fetch(ioc, client, get(server.url("/200")));
    BOOST_TEST(!first.ec, http::describe(first.ec, first.info));
    BOOST_TEST(first.info.status == 200u);
    // A second context and client: the key is loaded again and signs a second handshake.
    http::client second_client(ioc.get_executor(), tls::context(o));
    auto second = fetch(ioc, second_client, get(server.url("/200")));
    BOOST_TEST(!second.ec, http::describe(second.ec, second.info));
    BOOST_TEST(server.connections_accepted() == 2u);
}

BOOST_AUTO_TEST_CASE(devserver_without_the_client_certificate_refuses) {
    // The check above could pass without the token key being used: it cannot, since this one fails.
    boost::asio::io_context ioc;
    edgeloop::devserver::server server(
        ioc.get_executor(), {.require_client_certificate = true, .client_ca_file = pki::path("ca.crt")});
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}));
    auto out = fetch(ioc, client, get(server.url("/200")));
    BOOST_TEST(out.ec == make_error_code(tls::error::client_certificate_rejected),
               http::describe(out.ec, out.info));
}

BOOST_AUTO_TEST_CASE(wrong_pin_is_named_without_the_pin) {
    auto e = config_error_of(with(
        tls::identity::pkcs11(softhsm::uri("device", "private", "edgeloop-locked"), {}, {.value = "98765"})));
    BOOST_TEST(e.code() == make_error_code(tls::error::wrong_pin), e.what());
    const std::string what = e.what();
    BOOST_TEST(what.find("object=device") != std::string::npos, what);
    BOOST_TEST(what.find("98765") == std::string::npos, what);
}

BOOST_AUTO_TEST_CASE(pin_in_the_uri_is_used_and_never_shown) {
    const std::string uri = softhsm::uri("device", "private", "edgeloop-locked") + "&pin-value=55555";
    auto e = config_error_of(with(tls::identity::pkcs11(uri)));
    BOOST_TEST(e.code() == make_error_code(tls::error::wrong_pin), e.what());
    BOOST_TEST(std::string(e.what()).find("55555") == std::string::npos, e.what());
    BOOST_TEST(std::string(e.what()).find("pin-value=<redacted>") != std::string::npos, e.what());
    // A token not logged into yet by this process: the PIN of the URI is what opens it.
    const std::string right = softhsm::uri("device", "private", "edgeloop-uri") + "&pin-value=1234";
    auto ok = config_error_of(with(tls::identity::pkcs11(right)));
    BOOST_TEST(ok.code() == boost::system::error_code(), ok.what());
}

BOOST_AUTO_TEST_CASE(missing_pin_is_named) {
    auto e =
        config_error_of(with(tls::identity::pkcs11(softhsm::uri("device", "private", "edgeloop-locked"))));
    BOOST_TEST(e.code() == make_error_code(tls::error::wrong_pin), e.what());
    BOOST_TEST(std::string(e.what()).find("no PIN given") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(missing_object_is_named) {
    auto e = config_error_of(with(tls::identity::pkcs11(softhsm::uri("no-such-key"), {}, {.value = "1234"})));
    BOOST_TEST(e.code() == make_error_code(tls::error::object_not_found), e.what());
    BOOST_TEST(std::string(e.what()).find("object=no-such-key") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(missing_certificate_object_is_named) {
    auto e = config_error_of(
        with(tls::identity::pkcs11(softhsm::uri(), softhsm::uri("no-such-cert", "cert"), {.value = "1234"})));
    BOOST_TEST(e.code() == make_error_code(tls::error::object_not_found), e.what());
    BOOST_TEST(std::string(e.what()).find("client certificate pkcs11:token=edgeloop;object=no-such-cert") !=
                   std::string::npos,
               e.what());
}

BOOST_AUTO_TEST_CASE(missing_token_is_named_with_the_tokens_present) {
    std::string uri = softhsm::uri();
    uri.replace(uri.find("token=edgeloop"), 14, "token=absent");
    auto e = config_error_of(with(tls::identity::pkcs11(uri, {}, {.value = "1234"})));
    BOOST_TEST(e.code() == make_error_code(tls::error::token_not_found), e.what());
    BOOST_TEST(std::string(e.what()).find("token=absent") != std::string::npos, e.what());
    BOOST_TEST(std::string(e.what()).find("\"edgeloop-locked\"") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(missing_module_is_named) {
    auto e = config_error_of(with(tls::identity::pkcs11(
        "pkcs11:token=edgeloop;object=device?module-path=/nonexistent/module.so", {}, {.value = "1234"})));
    BOOST_TEST(std::string(e.what()).find("1234") == std::string::npos, e.what());
    BOOST_TEST(e.code() == make_error_code(tls::error::token_unavailable), e.what());
    BOOST_TEST(std::string(e.what()).find("/nonexistent/module.so") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(unreadable_pin_file_and_unset_variable_are_named) {
    auto e = config_error_of(with(tls::identity::pkcs11(softhsm::uri(), {}, {.file = "/nonexistent/pin"})));
    BOOST_TEST(e.code() == make_error_code(tls::error::pin_unreadable), e.what());
    BOOST_TEST(std::string(e.what()).find("/nonexistent/pin") != std::string::npos, e.what());
    ::unsetenv("EDGELOOP_TEST_NO_PIN");
    e = config_error_of(with(tls::identity::pkcs11(softhsm::uri(), {}, {.env = "EDGELOOP_TEST_NO_PIN"})));
    BOOST_TEST(e.code() == make_error_code(tls::error::pin_unreadable), e.what());
    BOOST_TEST(std::string(e.what()).find("EDGELOOP_TEST_NO_PIN") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(identity_given_twice_is_refused) {
    tls::options o = with(tls::identity::pkcs11(softhsm::uri()));
    o.cert_file = pki::path("client.crt");
    o.key_file = pki::path("client.key");
    BOOST_TEST(config_error_of(o).code() == make_error_code(tls::error::identity_conflict));
}

namespace {

struct app_run {
    int status = -1;
    std::string output;
};

/// Runs an app (stdout+stderr captured) with the token's SOFTHSM2_CONF in its environment.
app_run run_app(const char* bin, std::vector<std::string> args) {
    static const std::string dir = make_temp_dir("device_identity_app");
    static int n = 0;
    const std::string log = dir + "/run" + std::to_string(++n) + ".log";
    args.insert(args.begin(), bin);
    // Under the asan preset: libp11 (the pkcs11 engine's library, not ours) leaks a few allocations when a
    // key is not found, and LeakSanitizer would change the app's exit status.
    const std::string supp = dir + "/lsan.supp";
    std::ofstream(supp) << "leak:libp11.so\n";
    child_process p(args, log, {softhsm::env(), "LSAN_OPTIONS=suppressions=" + supp});
    auto status = p.wait_for_exit(std::chrono::seconds(30));
    BOOST_REQUIRE_MESSAGE(status.has_value(), "did not exit in time; output:\n" << read_file(log));
    return {*status, read_file(log)};
}

std::string write_pin_file(const std::string& pin) {
    static const std::string dir = make_temp_dir("device_identity_pin");
    const std::string path = dir + "/pin-" + pin;
    std::ofstream(path) << pin << "\n";
    return path;
}

} // namespace

BOOST_AUTO_TEST_CASE(aws_post_publishes_with_a_pkcs11_key) {
    nginx_server nginx;
    auto r = run_app(AWS_POST_BIN, {"--endpoint", "localhost", "--port", std::to_string(nginx.mtls_port()),
                                    "--cacert", pki::path("ca.crt"), "--key", softhsm::uri(), "--pin-file",
                                    softhsm::pin_file(), "-vv"});
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(r.output.find("Demo completed successfully.") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(aws_post_names_a_wrong_pin_without_showing_it) {
    auto r = run_app(AWS_POST_BIN, {"--endpoint", "localhost", "--cacert", pki::path("ca.crt"), "--key",
                                    softhsm::uri(), "--cert", softhsm::uri("device", "cert"), "--pin-file",
                                    write_pin_file("97531"), "-vv"});
    BOOST_TEST(r.status == 3, r.output);
    BOOST_TEST(r.output.find("PKCS#11 token refused the PIN") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("97531") == std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(aws_post_demo_keeps_its_key_in_memory) {
    auto r = run_app(AWS_POST_BIN, {"--demo"});
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(r.output.find("issued in memory (not written to disk)") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(multi_fetch_fetches_with_a_pkcs11_key) {
    nginx_server nginx;
    auto r =
        run_app(MULTI_FETCH_BIN, {"--now", "--cacert", pki::path("ca.crt"), "--key", softhsm::uri(), "--cert",
                                  pki::path("client.crt"), "--pin-file", softhsm::pin_file(), "--fail",
                                  "https://localhost:" + std::to_string(nginx.mtls_port()) + "/hello.txt"});
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(r.output.find("hello from nginx") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(multi_fetch_names_a_missing_object) {
    auto r = run_app(MULTI_FETCH_BIN, {"--now", "--key", softhsm::uri("absent-key"), "--pin-file",
                                       softhsm::pin_file(), "https://localhost:1/"});
    BOOST_TEST(r.status == 3, r.output);
    BOOST_TEST(r.output.find("object=absent-key") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("no such object in the PKCS#11 token") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_SUITE_END()

// Expiry of the client certificate and the system clock (certificates generated at test time).
BOOST_AUTO_TEST_SUITE(identity_expiry)

namespace {

std::string make_cert(const std::string& name, int days) {
    static const std::string dir = make_temp_dir("identity_expiry");
    const std::string base = dir + "/" + name;
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days " + std::to_string(days) +
        " -subj /CN=" + name + " -keyout " + base + ".key -out " + base + ".crt 2>/dev/null";
    BOOST_REQUIRE(std::system(command.c_str()) == 0);
    return base;
}

/// The environment that makes a child's wall clock say `when` (seconds since the epoch), through
/// tests/support/fake_realtime.cpp (LD_PRELOAD; monotonic clocks and timers are left alone).
std::vector<std::string> fake_clock(std::int64_t when) {
    return {std::string("LD_PRELOAD=") + FAKE_REALTIME_LIB, "EDGELOOP_FAKE_REALTIME=" + std::to_string(when),
            "ASAN_OPTIONS=verify_asan_link_order=0"};
}

/// 2001-01-01 00:00:00 UTC: after the epoch, before any certificate the tests make and before the build.
constexpr std::int64_t year_2001 = 978307200;

device_identity::app_run run_with_env(const char* bin, std::vector<std::string> args,
                                      std::vector<std::string> env) {
    static const std::string dir = make_temp_dir("identity_expiry_app");
    static int n = 0;
    const std::string log = dir + "/run" + std::to_string(++n) + ".log";
    args.insert(args.begin(), bin);
    child_process p(args, log, std::move(env));
    auto status = p.wait_for_exit(std::chrono::seconds(30));
    BOOST_REQUIRE_MESSAGE(status.has_value(), "did not exit in time; output:\n" << read_file(log));
    return {*status, read_file(log)};
}

} // namespace

BOOST_AUTO_TEST_CASE(expired_client_certificate_is_refused_before_connecting) {
    auto e = config_error_of({.ca_file = pki::path("ca.crt"),
                              .cert_file = pki::path("expired.crt"),
                              .key_file = pki::path("expired.key")});
    BOOST_TEST(e.code() == make_error_code(tls::error::client_certificate_expired), e.what());
    BOOST_TEST(std::string(e.what()).find("expired 2020-") != std::string::npos, e.what());
    BOOST_TEST(std::string(e.what()).find("expired.crt") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(expiry_is_exposed) {
    tls::context none({.ca_file = pki::path("ca.crt")});
    BOOST_TEST(!none.client_certificate_expiry().has_value());
    const std::string base = make_cert("year", 365);
    tls::context ctx({.cert_file = base + ".crt", .key_file = base + ".key"});
    BOOST_REQUIRE(ctx.client_certificate_expiry().has_value());
    const auto left = *ctx.client_certificate_expiry() - std::chrono::system_clock::now();
    BOOST_TEST(left > std::chrono::hours(24 * 364));
    BOOST_TEST(left <= std::chrono::hours(24 * 365));
}

BOOST_AUTO_TEST_CASE(a_certificate_expiring_soon_is_warned_about) {
    const std::string soon = make_cert("soon", 5);
    auto r =
        run_with_env(MULTI_FETCH_BIN,
                     {"--now", "--cert", soon + ".crt", "--key", soon + ".key", "https://127.0.0.1:1/"}, {});
    BOOST_TEST(r.output.find("client certificate " + soon + ".crt expires ") != std::string::npos, r.output);
    BOOST_TEST((r.output.find(", in 4 days: renew it") != std::string::npos ||
                r.output.find(", in 5 days: renew it") != std::string::npos),
               r.output);
    const std::string later = make_cert("later", 90);
    r = run_with_env(MULTI_FETCH_BIN,
                     {"--now", "--cert", later + ".crt", "--key", later + ".key", "https://127.0.0.1:1/"},
                     {});
    BOOST_TEST(r.output.find("renew it") == std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(a_clock_in_the_past_is_reported_as_not_set) {
    nginx_server nginx;
    const std::string url = "https://localhost:" + std::to_string(nginx.https_port()) + "/hello.txt";
    auto r =
        run_with_env(MULTI_FETCH_BIN, {"--now", "--cacert", pki::path("ca.crt"), url}, fake_clock(year_2001));
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST(r.output.find("system clock not set (it says 2001-01-01") != std::string::npos, r.output);
    // The same server with the clock right: fetched.
    r = run_with_env(MULTI_FETCH_BIN, {"--now", "--cacert", pki::path("ca.crt"), url}, {});
    BOOST_TEST(r.status == 0, r.output);
}

BOOST_AUTO_TEST_CASE(aws_post_waits_for_the_clock_when_asked) {
    nginx_server nginx;
    std::vector<std::string> args = {"--endpoint",
                                     "localhost",
                                     "--port",
                                     std::to_string(nginx.mtls_port()),
                                     "--cacert",
                                     pki::path("ca.crt"),
                                     "--cert",
                                     pki::path("client.crt"),
                                     "--key",
                                     pki::path("client.key"),
                                     "--attempts",
                                     "3",
                                     "--backoff-base-ms",
                                     "10",
                                     "--backoff-max-ms",
                                     "20"};
    auto r = run_with_env(AWS_POST_BIN, args, fake_clock(year_2001));
    BOOST_TEST(r.status == 6, r.output);
    BOOST_TEST(r.output.find("system clock not set") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("retrying in") == std::string::npos, r.output);
    args.push_back("--wait-for-clock");
    r = run_with_env(AWS_POST_BIN, args, fake_clock(year_2001));
    BOOST_TEST(r.output.find("attempt 2 failed: ") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("retrying in") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
