// HTTP proxies (client_options::proxy): a real squid (Debian `squid`) started by the test on 127.0.0.1, with
// Basic authentication through its basic_ncsa_auth helper and a password file made here, in front of the
// harness's nginx. The faults a proxy brings that squid cannot be made to show (a stalled CONNECT answer,
// garbage instead of an answer) come from the scripted fault_server playing the proxy.
#include <edgeloop/http.hpp>
#include <edgeloop/tls.hpp>
#include <support/fault_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>
#include <support/stunnel.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>

using namespace edgeloop;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

/// Output of a shell command (stdout), or throws.
std::string shell(const std::string& command) {
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr)
        throw std::runtime_error("popen failed: " + command);
    std::string out;
    char buf[256];
    while (std::fgets(buf, sizeof buf, p) != nullptr)
        out += buf;
    if (::pclose(p) != 0)
        throw std::runtime_error("failed: " + command);
    return out;
}

/// squid -N (foreground) from a config of its own in a private temp dir, two ports on 127.0.0.1:
///   open_port(): no authentication;
///   auth_port(): Basic authentication, user "alice", password "s3cret" (basic_ncsa_auth, an apr1 hash
///                made with openssl passwd at start).
/// Both refuse (403) a CONNECT to denied_port(). access_log(): one line per request ("TCP_TUNNEL/200 ...
/// CONNECT host:port user", "TCP_DENIED/407 ...").
class squid_server {
public:
    squid_server()
        : dir_(make_temp_dir("squid"))
        , denied_port_(free_port()) {
        // squid started as root drops to the `proxy` user: its files must be reachable by it.
        ::chmod(dir_.c_str(), 0777);
        const std::string hash = shell("openssl passwd -apr1 s3cret");
        std::ofstream(dir_ + "/passwd") << "alice:" << hash;
        ::chmod((dir_ + "/passwd").c_str(), 0644);
        for (int attempt = 0; attempt < 3; ++attempt) {
            const auto ports = free_ports(2);
            open_port_ = ports[0];
            auth_port_ = ports[1];
            std::ofstream(dir_ + "/squid.conf")
                << "http_port 127.0.0.1:" << open_port_ << " name=open\n"
                << "http_port 127.0.0.1:" << auth_port_ << " name=auth\n"
                << "pid_filename " << dir_ << "/squid.pid\n"
                << "access_log stdio:" << dir_ << "/access.log squid\n"
                << "cache_log " << dir_ << "/cache.log\n"
                << "cache_store_log none\n"
                << "coredump_dir " << dir_ << "\n"
                << "cache deny all\n"
                << "shutdown_lifetime 0 seconds\n"
                << "auth_param basic program /usr/lib/squid/basic_ncsa_auth " << dir_ << "/passwd\n"
                << "auth_param basic realm edgeloop-test\n"
                << "acl open_port myportname open\n"
                << "acl authed proxy_auth REQUIRED\n"
                << "acl CONNECT method CONNECT\n"
                << "acl denied_port port " << denied_port_ << "\n"
                << "http_access deny CONNECT denied_port\n"
                << "http_access allow localhost open_port\n"
                << "http_access allow localhost authed\n"
                << "http_access deny all\n";
            process_ = child_process({"squid", "-N", "-f", dir_ + "/squid.conf"}, dir_ + "/squid.out");
            if (wait_for_listen(open_port_, 15s) && wait_for_listen(auth_port_, 5s))
                return;
            process_.stop();
        }
        throw std::runtime_error("squid did not start: " + read_file(dir_ + "/squid.out") +
                                 read_file(dir_ + "/cache.log"));
    }

    std::uint16_t open_port() const noexcept { return open_port_; }
    std::uint16_t auth_port() const noexcept { return auth_port_; }
    std::uint16_t denied_port() const noexcept { return denied_port_; }
    std::string open_url() const { return "http://127.0.0.1:" + std::to_string(open_port_); }
    std::string auth_url(const std::string& userinfo) const {
        return "http://" + userinfo + "@127.0.0.1:" + std::to_string(auth_port_);
    }
    /// The access log once it has `lines` lines (squid writes a line when a request or tunnel ends).
    std::string access_log(std::size_t lines = 1) const {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        std::string log;
        while (std::chrono::steady_clock::now() < deadline) {
            log = read_file(dir_ + "/access.log");
            if (static_cast<std::size_t>(std::count(log.begin(), log.end(), '\n')) >= lines)
                break;
            std::this_thread::sleep_for(20ms);
        }
        return log;
    }

private:
    std::string dir_;
    std::uint16_t open_port_ = 0;
    std::uint16_t auth_port_ = 0;
    std::uint16_t denied_port_ = 0;
    child_process process_;
};

http::client_options through(const std::string& proxy_url) {
    http::client_options o;
    o.proxy.url = proxy_url;
    return o;
}

tls::options trust_pki() {
    return {.ca_file = pki::path("ca.crt")};
}

std::string port_of(std::uint16_t p) {
    return std::to_string(p);
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_proxy)

BOOST_AUTO_TEST_CASE(https_goes_through_a_connect_tunnel_with_basic_auth_and_verifies_the_target) {
    nginx_server nginx;
    squid_server squid;
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context(trust_pki()),
                        through(squid.auth_url("alice:s3cret")));
    const std::string url = "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt";
    auto out = fetch(ioc, client, {.url = url});
    BOOST_TEST(!out.ec, out.ec.message() << " " << out.info.detail);
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body == "hello from nginx\n");
    BOOST_TEST(out.info.proxy == "http://127.0.0.1:" + port_of(squid.auth_port())); // never the credentials
    BOOST_TEST(contains(out.info.proxy_reason, "from -x/--proxy"));
    // A second transfer reuses the tunnel (pooled per proxy, target and identity).
    auto again = fetch(ioc, client, {.url = url});
    BOOST_TEST(!again.ec);
    BOOST_TEST(again.info.reused_connection);
    client.cancel_all(); // closes the idle tunnel: squid logs it
    ioc.run_for(100ms);
    const auto log = squid.access_log(1);
    BOOST_TEST(contains(log, "TCP_TUNNEL/200"), log);
    BOOST_TEST(contains(log, "CONNECT localhost:" + port_of(nginx.https_port()) + " alice"), log);
    BOOST_TEST(std::count(log.begin(), log.end(), '\n') == 1, log);
}

BOOST_AUTO_TEST_CASE(the_target_certificate_is_checked_through_the_tunnel) {
    // wronghost.crt names other.example, not localhost: the host check fails as it does direct.
    openssl_server target({.cert = "wronghost"});
    squid_server squid;
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context(trust_pki()), through(squid.open_url()));
    auto out = fetch(ioc, client, {.url = "https://localhost:" + port_of(target.port()) + "/"});
    BOOST_TEST(out.ec == make_error_code(tls::error::host_name_mismatch), out.ec.message()
                                                                              << " " << out.info.detail);
}

BOOST_AUTO_TEST_CASE(plain_http_goes_in_absolute_form_with_proxy_authorization) {
    nginx_server nginx;
    squid_server squid;
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), through(squid.auth_url("alice:s3cret")));
    auto out = fetch(ioc, client, {.url = "http://localhost:" + port_of(nginx.http_port()) + "/hello.txt"});
    BOOST_TEST(!out.ec, out.ec.message() << " " << out.info.detail);
    BOOST_TEST(out.body == "hello from nginx\n");
    const auto log = squid.access_log(1);
    BOOST_TEST(contains(log, "GET http://localhost:" + port_of(nginx.http_port()) + "/hello.txt alice"), log);
}

BOOST_AUTO_TEST_CASE(wrong_or_missing_credentials_are_proxy_auth_required_naming_the_proxy) {
    nginx_server nginx;
    squid_server squid;
    boost::asio::io_context ioc;
    const std::string https = "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt";
    const std::string plain = "http://localhost:" + port_of(nginx.http_port()) + "/hello.txt";
    const std::string proxy = "127.0.0.1:" + port_of(squid.auth_port());
    {
        http::client client(ioc.get_executor(), tls::context(trust_pki()),
                            through(squid.auth_url("alice:wrong")));
        auto out = fetch(ioc, client, {.url = https});
        BOOST_TEST(out.ec == make_error_code(http::error::proxy_auth_required), out.ec.message());
        BOOST_TEST(contains(out.info.detail, "proxy http://" + proxy + " answered 407"), out.info.detail);
        BOOST_TEST(contains(out.info.detail, "credentials given were refused"), out.info.detail);
        BOOST_TEST(!contains(out.info.detail, "wrong"), out.info.detail);
        auto http_out = fetch(ioc, client, {.url = plain});
        BOOST_TEST(http_out.ec == make_error_code(http::error::proxy_auth_required), http_out.ec.message());
    }
    {
        auto opts = through("http://127.0.0.1:" + port_of(squid.auth_port()));
        http::client client(ioc.get_executor(), tls::context(trust_pki()), opts);
        auto out = fetch(ioc, client, {.url = https});
        BOOST_TEST(out.ec == make_error_code(http::error::proxy_auth_required), out.ec.message());
        BOOST_TEST(contains(out.info.detail, "no proxy credentials given"), out.info.detail);
        // The credentials option takes the place of the URL's.
        opts.proxy.credentials = "alice:s3cret";
        http::client with_option(ioc.get_executor(), tls::context(trust_pki()), opts);
        BOOST_TEST(!fetch(ioc, with_option, {.url = https}).ec);
    }
}

BOOST_AUTO_TEST_CASE(a_refused_connect_is_its_own_error_naming_proxy_and_status) {
    squid_server squid;
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context(trust_pki()), through(squid.open_url()));
    auto out = fetch(ioc, client, {.url = "https://localhost:" + port_of(squid.denied_port()) + "/"});
    BOOST_TEST(out.ec == make_error_code(http::error::proxy_tunnel_refused), out.ec.message());
    BOOST_TEST(contains(out.info.detail, "proxy " + squid.open_url() + " answered 403"), out.info.detail);
    BOOST_TEST(contains(out.info.detail, "CONNECT localhost:" + port_of(squid.denied_port())),
               out.info.detail);
}

BOOST_AUTO_TEST_CASE(proxy_down_is_proxy_connect_failed_naming_it) {
    boost::asio::io_context ioc;
    const auto dead = free_port();
    http::client client(ioc.get_executor(), tls::context(trust_pki()),
                        through("http://127.0.0.1:" + port_of(dead)));
    auto out = fetch(ioc, client, {.url = "https://localhost:1/"});
    BOOST_TEST(out.ec == make_error_code(http::error::proxy_connect_failed), out.ec.message());
    BOOST_TEST(contains(out.info.detail, "proxy http://127.0.0.1:" + port_of(dead)), out.info.detail);
    BOOST_TEST(out.info.cause == boost::asio::error::connection_refused);
}

BOOST_AUTO_TEST_CASE(no_proxy_hosts_go_direct) {
    nginx_server nginx;
    boost::asio::io_context ioc;
    auto opts = through("http://127.0.0.1:" + port_of(free_port())); // nothing listens there
    opts.proxy.no_proxy = "example.com, localhost";
    http::client client(ioc.get_executor(), tls::context(trust_pki()), opts);
    auto out = fetch(ioc, client, {.url = "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt"});
    BOOST_TEST(!out.ec, out.ec.message() << " " << out.info.detail);
    BOOST_TEST(out.info.proxy.empty());
    BOOST_TEST(out.info.proxy_reason == "no proxy: localhost matches --noproxy");
}

BOOST_AUTO_TEST_CASE(the_allowlist_applies_to_the_target_through_the_proxy) {
    nginx_server nginx;
    squid_server squid;
    boost::asio::io_context ioc;
    auto opts = through(squid.open_url());
    opts.allowed_hosts = {"localhost"};
    http::client client(ioc.get_executor(), tls::context(trust_pki()), opts);
    auto out = fetch(ioc, client, {.url = "https://127.0.0.1:" + port_of(nginx.https_port()) + "/hello.txt"});
    BOOST_TEST(out.ec == make_error_code(http::error::host_not_allowed), out.ec.message());
    BOOST_TEST(fetch(ioc, client, {.url = "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt"})
                   .info.status == 200u);
    const auto log = squid.access_log(0);
    BOOST_TEST(!contains(log, "127.0.0.1:" + port_of(nginx.https_port())), log);
}

BOOST_AUTO_TEST_CASE(the_client_certificate_goes_to_the_target_through_the_tunnel) {
    nginx_server nginx;
    squid_server squid;
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(),
                        tls::context({.ca_file = pki::path("ca.crt"),
                                      .cert_file = pki::path("client.crt"),
                                      .key_file = pki::path("client.key")}),
                        through(squid.auth_url("alice:s3cret")));
    auto out = fetch(ioc, client,
                     {.method = "POST",
                      .url = "https://localhost:" + port_of(nginx.mtls_port()) + "/topics/t?qos=1",
                      .body = R"({"message":"hi"})"});
    BOOST_TEST(!out.ec, out.ec.message() << " " << out.info.detail);
    BOOST_TEST(out.info.status == 200u, out.body);
}

BOOST_AUTO_TEST_CASE(a_stalled_connect_answer_is_proxy_tunnel_timeout) {
    boost::asio::io_context ioc;
    fault_server proxy(ioc, {{fault::read_request(), fault::stall()}});
    auto opts = through("http://127.0.0.1:" + port_of(proxy.port()));
    opts.timeouts.proxy_tunnel = 300ms;
    http::client client(ioc.get_executor(), tls::context(trust_pki()), opts);
    auto out = fetch(ioc, client, {.url = "https://localhost:1/"});
    BOOST_TEST(out.ec == make_error_code(http::error::proxy_tunnel_timeout), out.ec.message());
    BOOST_TEST(contains(out.info.detail, "proxy tunnel phase"), out.info.detail);
}

BOOST_AUTO_TEST_CASE(garbage_or_a_close_instead_of_an_answer_is_bad_proxy_response) {
    boost::asio::io_context ioc;
    fault_server garbage(ioc, {{fault::read_request(), fault::send("SSH-2.0-OpenSSH\r\n\r\n")}});
    http::client client(ioc.get_executor(), tls::context(trust_pki()),
                        through("http://127.0.0.1:" + port_of(garbage.port())));
    auto out = fetch(ioc, client, {.url = "https://localhost:1/"});
    BOOST_TEST(out.ec == make_error_code(http::error::bad_proxy_response), out.ec.message());
    fault_server closes(ioc, {{fault::read_request(), fault::close()}});
    http::client client2(ioc.get_executor(), tls::context(trust_pki()),
                         through("http://127.0.0.1:" + port_of(closes.port())));
    out = fetch(ioc, client2, {.url = "https://localhost:1/"});
    BOOST_TEST(out.ec == make_error_code(http::error::bad_proxy_response), out.ec.message());
    BOOST_TEST(contains(out.info.detail, "closed the connection before answering CONNECT"), out.info.detail);
}

BOOST_AUTO_TEST_CASE(multi_fetch_takes_the_proxy_from_the_environment_and_never_shows_the_password) {
    nginx_server nginx;
    squid_server squid;
    const std::string dir = make_temp_dir("proxy_app");
    const std::string log = dir + "/out.log";
    child_process p({MULTI_FETCH_BIN, "--now", "-vv", "--cacert", pki::path("ca.crt"),
                     "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt"},
                    log, {"https_proxy=" + squid.auth_url("alice:s3cret"), "no_proxy=", "NO_PROXY="});
    const auto status = p.wait_for_exit(30s);
    const auto output = read_file(log);
    BOOST_TEST_REQUIRE(status.has_value(), output);
    BOOST_TEST(*status == 0, output);
    BOOST_TEST(contains(output, "hello from nginx"), output);
    BOOST_TEST(contains(output, "proxy http://127.0.0.1:" + port_of(squid.auth_port()) + " from https_proxy"),
               output);
    BOOST_TEST(!contains(output, "s3cret"), output);
    BOOST_TEST(contains(squid.access_log(1), " alice"));
}

BOOST_AUTO_TEST_CASE(multi_fetch_noproxy_and_dash_x_override_the_environment) {
    nginx_server nginx;
    squid_server squid;
    const std::string dir = make_temp_dir("proxy_app");
    const std::string url = "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt";
    // -x with --proxy-user; the environment names a proxy where nothing listens.
    child_process p({MULTI_FETCH_BIN, "--now", "-v", "--cacert", pki::path("ca.crt"), "-x",
                     "127.0.0.1:" + port_of(squid.auth_port()), "--proxy-user", "alice:s3cret", url},
                    dir + "/x.log", {"https_proxy=http://127.0.0.1:" + port_of(free_port())});
    const auto status = p.wait_for_exit(30s);
    BOOST_TEST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 0, read_file(dir + "/x.log"));
    BOOST_TEST(contains(read_file(dir + "/x.log"), "from -x/--proxy"), read_file(dir + "/x.log"));
    // --noproxy '*' goes direct whatever the environment says.
    child_process direct(
        {MULTI_FETCH_BIN, "--now", "-v", "--cacert", pki::path("ca.crt"), "--noproxy", "*", url},
        dir + "/direct.log", {"https_proxy=http://127.0.0.1:" + port_of(free_port())});
    const auto direct_status = direct.wait_for_exit(30s);
    BOOST_TEST_REQUIRE(direct_status.has_value());
    BOOST_TEST(*direct_status == 0, read_file(dir + "/direct.log"));
    BOOST_TEST(contains(read_file(dir + "/direct.log"), "no proxy: localhost matches --noproxy"),
               read_file(dir + "/direct.log"));
}

BOOST_AUTO_TEST_CASE(aws_post_publishes_with_mutual_tls_through_squid) {
    nginx_server nginx;
    squid_server squid;
    const std::string dir = make_temp_dir("proxy_app");
    child_process p({AWS_POST_BIN, "--endpoint", "localhost", "--port", port_of(nginx.mtls_port()),
                     "--cacert", pki::path("ca.crt"), "--cert", pki::path("client.crt"), "--key",
                     pki::path("client.key"), "--topic", "gw", "--qos", "0", "-v", "--proxy",
                     squid.open_url()},
                    dir + "/aws.log");
    const auto status = p.wait_for_exit(30s);
    const auto output = read_file(dir + "/aws.log");
    BOOST_TEST_REQUIRE(status.has_value(), output);
    BOOST_TEST(*status == 0, output);
    BOOST_TEST(contains(output, "Response Status:\n200"), output);
    BOOST_TEST(contains(output, "Proxy: proxy " + squid.open_url() + " from -x/--proxy"), output);
    BOOST_TEST(contains(squid.access_log(1), "CONNECT localhost:" + port_of(nginx.mtls_port())));
}

BOOST_AUTO_TEST_SUITE_END()

// HTTPS proxies: TLS with the proxy itself (its own trust: proxy_options::ca_file, --proxy-cacert), then
// CONNECT, then the target's TLS inside the proxy's. The proxy is stunnel (Debian `stunnel4`) presenting
// pki untrusted.crt (localhost, signed by untrusted-ca, which the target's trust does not hold) in front of
// squid's plain port: squid-openssl, which has an https_port, would replace squid.
BOOST_AUTO_TEST_SUITE(https_proxy)

namespace {

http::client_options through_https(const stunnel_server& front, const std::string& userinfo = "") {
    auto o =
        through("https://" + (userinfo.empty() ? "" : userinfo + "@") + "localhost:" + port_of(front.port()));
    o.proxy.ca_file = pki::path("untrusted-ca.crt");
    return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(https_target_through_an_https_proxy_verifies_both_with_their_own_trust) {
    nginx_server nginx;
    squid_server squid;
    stunnel_server front({.forward_port = squid.open_port(), .cert = "untrusted"});
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context(trust_pki()), through_https(front));
    const std::string url = "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt";
    auto out = fetch(ioc, client, {.url = url});
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body == "hello from nginx\n");
    BOOST_TEST(out.info.proxy == "https://localhost:" + port_of(front.port()));
    // The tunnel (proxy TLS, CONNECT, target TLS inside) is pooled per proxy, target and identity.
    auto again = fetch(ioc, client, {.url = url});
    BOOST_TEST(!again.ec, http::describe(again.ec, again.info));
    BOOST_TEST(again.body == "hello from nginx\n");
    BOOST_TEST(again.info.reused_connection);
    client.cancel_all();
    ioc.run_for(100ms);
    const auto log = squid.access_log(1);
    BOOST_TEST(contains(log, "TCP_TUNNEL/200"), log);
    BOOST_TEST(contains(log, "CONNECT localhost:" + port_of(nginx.https_port())), log);
    BOOST_TEST(std::count(log.begin(), log.end(), '\n') == 1, log);
    BOOST_TEST(contains(front.log(), "accepted connection"), front.log());
}

BOOST_AUTO_TEST_CASE(an_untrusted_proxy_certificate_is_proxy_tls_failed_naming_the_proxy) {
    squid_server squid;
    stunnel_server front({.forward_port = squid.open_port(), .cert = "untrusted"});
    boost::asio::io_context ioc;
    const std::string proxy = "https://localhost:" + port_of(front.port());
    for (const std::string& proxy_ca : {std::string(), pki::path("ca.crt")}) {
        // The system store, or the target's CA: neither signed the proxy's certificate. The target's trust
        // (ca.crt, given to the client) is never the proxy's.
        BOOST_TEST_INFO("proxy CA file: " << proxy_ca);
        auto o = through(proxy);
        o.proxy.ca_file = proxy_ca;
        http::client client(ioc.get_executor(), tls::context({.ca_file = pki::path("untrusted-ca.crt")}), o);
        auto out = fetch(ioc, client, {.url = "https://localhost:1/"});
        BOOST_TEST(out.ec == make_error_code(http::error::proxy_tls_failed),
                   http::describe(out.ec, out.info));
        BOOST_TEST(out.info.cause == make_error_code(tls::error::untrusted_issuer), out.info.cause.message());
        BOOST_TEST(contains(out.info.detail, "proxy " + proxy + ": TLS handshake with the proxy failed"),
                   out.info.detail);
    }
    BOOST_TEST(squid.access_log(0).empty()); // nothing reached the proxy behind the TLS
}

BOOST_AUTO_TEST_CASE(plain_http_through_an_https_proxy_goes_in_absolute_form_with_basic_auth) {
    nginx_server nginx;
    squid_server squid;
    stunnel_server front({.forward_port = squid.auth_port(), .cert = "untrusted"});
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), through_https(front, "alice:s3cret"));
    auto out = fetch(ioc, client, {.url = "http://localhost:" + port_of(nginx.http_port()) + "/hello.txt"});
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == "hello from nginx\n");
    const auto log = squid.access_log(1);
    BOOST_TEST(contains(log, "GET http://localhost:" + port_of(nginx.http_port()) + "/hello.txt alice"), log);
    // Without the credentials: the 407 path, over the proxy's TLS.
    http::client anonymous(ioc.get_executor(), tls::context(trust_pki()), through_https(front));
    auto refused = fetch(ioc, anonymous, {.url = "https://localhost:" + port_of(nginx.https_port()) + "/"});
    BOOST_TEST(refused.ec == make_error_code(http::error::proxy_auth_required),
               http::describe(refused.ec, refused.info));
    BOOST_TEST(
        contains(refused.info.detail, "proxy https://localhost:" + port_of(front.port()) + " answered 407"),
        refused.info.detail);
}

BOOST_AUTO_TEST_CASE(multi_fetch_takes_an_https_proxy_from_the_environment_with_proxy_cacert) {
    nginx_server nginx;
    squid_server squid;
    stunnel_server front({.forward_port = squid.auth_port(), .cert = "untrusted"});
    const std::string dir = make_temp_dir("proxy_app");
    const std::string url = "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt";
    const std::string proxy = "https://localhost:" + port_of(front.port());
    child_process p(
        {MULTI_FETCH_BIN, "--now", "-vv", "--cacert", pki::path("ca.crt"), "--proxy-cacert",
         pki::path("untrusted-ca.crt"), url},
        dir + "/env.log",
        {"https_proxy=https://alice:s3cret@localhost:" + port_of(front.port()), "no_proxy=", "NO_PROXY="});
    const auto status = p.wait_for_exit(30s);
    const auto output = read_file(dir + "/env.log");
    BOOST_TEST_REQUIRE(status.has_value(), output);
    BOOST_TEST(*status == 0, output);
    BOOST_TEST(contains(output, "hello from nginx"), output);
    BOOST_TEST(contains(output, "proxy " + proxy + " from https_proxy"), output);
    BOOST_TEST(!contains(output, "s3cret"), output);
    BOOST_TEST(!contains(output, "verification of the PROXY is OFF"), output);
    BOOST_TEST(contains(squid.access_log(1), " alice"));
    // Without --proxy-cacert the proxy is not trusted: its own error, exit non-zero.
    child_process untrusted({MULTI_FETCH_BIN, "--now", "--cacert", pki::path("ca.crt"), url}, dir + "/no.log",
                            {"https_proxy=https://alice:s3cret@localhost:" + port_of(front.port())});
    const auto failed = untrusted.wait_for_exit(30s);
    BOOST_TEST_REQUIRE(failed.has_value());
    BOOST_TEST(*failed != 0, read_file(dir + "/no.log"));
    BOOST_TEST(contains(read_file(dir + "/no.log"), "TLS handshake with the proxy failed"),
               read_file(dir + "/no.log"));
}

BOOST_AUTO_TEST_CASE(multi_fetch_proxy_insecure_works_and_warns) {
    nginx_server nginx;
    squid_server squid;
    stunnel_server front({.forward_port = squid.open_port(), .cert = "untrusted"});
    const std::string dir = make_temp_dir("proxy_app");
    child_process p({MULTI_FETCH_BIN, "--now", "--cacert", pki::path("ca.crt"), "-x",
                     "https://localhost:" + port_of(front.port()), "--proxy-insecure",
                     "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt"},
                    dir + "/insecure.log");
    const auto status = p.wait_for_exit(30s);
    const auto output = read_file(dir + "/insecure.log");
    BOOST_TEST_REQUIRE(status.has_value(), output);
    BOOST_TEST(*status == 0, output);
    BOOST_TEST(contains(output, "hello from nginx"), output);
    // As loud as --insecure: a warning without -v.
    BOOST_TEST(contains(output, "TLS certificate verification of the PROXY is OFF (--proxy-insecure)"),
               output);
}

BOOST_AUTO_TEST_CASE(aws_post_publishes_with_mutual_tls_through_an_https_proxy) {
    // The client certificate goes to the target (nginx's mTLS port refuses a handshake without one),
    // never to the proxy: stunnel asks for none, and the client has none configured for it.
    nginx_server nginx;
    squid_server squid;
    stunnel_server front({.forward_port = squid.open_port(), .cert = "untrusted"});
    const std::string dir = make_temp_dir("proxy_app");
    const std::string proxy = "https://localhost:" + port_of(front.port());
    child_process p({AWS_POST_BIN,
                     "--endpoint",
                     "localhost",
                     "--port",
                     port_of(nginx.mtls_port()),
                     "--cacert",
                     pki::path("ca.crt"),
                     "--cert",
                     pki::path("client.crt"),
                     "--key",
                     pki::path("client.key"),
                     "--topic",
                     "gw",
                     "--qos",
                     "0",
                     "-v",
                     "--proxy",
                     proxy,
                     "--proxy-cacert",
                     pki::path("untrusted-ca.crt")},
                    dir + "/aws.log");
    const auto status = p.wait_for_exit(30s);
    const auto output = read_file(dir + "/aws.log");
    BOOST_TEST_REQUIRE(status.has_value(), output);
    BOOST_TEST(*status == 0, output);
    BOOST_TEST(contains(output, "Response Status:\n200"), output);
    BOOST_TEST(contains(output, "Proxy: proxy " + proxy + " from -x/--proxy"), output);
    BOOST_TEST(contains(squid.access_log(1), "CONNECT localhost:" + port_of(nginx.mtls_port())));
}

BOOST_AUTO_TEST_SUITE_END()
