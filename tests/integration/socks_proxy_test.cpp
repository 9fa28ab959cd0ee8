// SOCKS5 proxies (client_options::proxy with socks5:// and socks5h://): a real SOCKS5 server, microsocks
// (Debian `microsocks`), started by the test on 127.0.0.1, once without authentication and once with a
// username and password (RFC 1929), in front of the harness's nginx. dante-server's username method needs
// system users (it authenticates against the system's password database), which a test cannot make
// without changing the machine: microsocks takes them on its command line. A proxy that stalls comes
// from the scripted fault_server playing the proxy.
#include <edgeloop/http.hpp>
#include <edgeloop/tls.hpp>
#include <support/fault_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <stdexcept>

using namespace edgeloop;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

std::string port_of(std::uint16_t p) {
    return std::to_string(p);
}

/// microsocks on 127.0.0.1: without authentication, or with user "alice", password "s3cret".
class socks_server {
public:
    explicit socks_server(bool auth)
        : dir_(make_temp_dir("socks")) {
        for (int attempt = 0; attempt < 3; ++attempt) {
            port_ = free_port();
            std::vector<std::string> argv{"microsocks", "-i", "127.0.0.1", "-p", port_of(port_)};
            if (auth)
                argv.insert(argv.end(), {"-u", "alice", "-P", "s3cret"});
            process_ = child_process(argv, dir_ + "/microsocks.out");
            if (wait_for_listen(port_, 10s))
                return;
            process_.stop();
        }
        throw std::runtime_error("microsocks did not start: " + read_file(dir_ + "/microsocks.out"));
    }

    std::uint16_t port() const noexcept { return port_; }
    std::string url(const std::string& scheme, const std::string& userinfo = "") const {
        return scheme + "://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" + port_of(port_);
    }

private:
    std::string dir_;
    std::uint16_t port_ = 0;
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

} // namespace

BOOST_AUTO_TEST_SUITE(socks_proxy)

BOOST_AUTO_TEST_CASE(https_goes_through_socks5h_and_socks5_and_verifies_the_target) {
    nginx_server nginx;
    socks_server socks(false);
    boost::asio::io_context ioc;
    const std::string url = "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt";
    for (const std::string scheme : {"socks5h", "socks5"}) {
        BOOST_TEST_CONTEXT(scheme) {
            http::client client(ioc.get_executor(), tls::context(trust_pki()), through(socks.url(scheme)));
            auto out = fetch(ioc, client, {.url = url});
            BOOST_TEST(!out.ec, out.ec.message() << " " << out.info.detail);
            BOOST_TEST(out.info.status == 200u);
            BOOST_TEST(out.body == "hello from nginx\n");
            BOOST_TEST(out.info.proxy == socks.url(scheme));
            BOOST_TEST(out.info.remote_port == socks.port()); // the connection went to the proxy
            auto again = fetch(ioc, client, {.url = url});
            BOOST_TEST(!again.ec);
            BOOST_TEST(again.info.reused_connection); // the tunnel is pooled
            // Plain http goes through the tunnel in origin-form (no absolute-form for SOCKS).
            auto plain =
                fetch(ioc, client, {.url = "http://localhost:" + port_of(nginx.http_port()) + "/hello.txt"});
            BOOST_TEST(!plain.ec, plain.ec.message() << " " << plain.info.detail);
            BOOST_TEST(plain.body == "hello from nginx\n");
        }
    }
}

BOOST_AUTO_TEST_CASE(the_target_certificate_is_checked_through_the_socks_tunnel) {
    openssl_server target({.cert = "wronghost"});
    socks_server socks(false);
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(), tls::context(trust_pki()), through(socks.url("socks5h")));
    auto out = fetch(ioc, client, {.url = "https://localhost:" + port_of(target.port()) + "/"});
    BOOST_TEST(out.ec == make_error_code(tls::error::host_name_mismatch), out.ec.message()
                                                                              << " " << out.info.detail);
}

BOOST_AUTO_TEST_CASE(socks5_resolves_the_name_locally_and_socks5h_leaves_it_to_the_proxy) {
    socks_server socks(false);
    boost::asio::io_context ioc;
    // A name nobody resolves: socks5:// fails in the client, before any SOCKS request ...
    http::client local(ioc.get_executor(), tls::context(trust_pki()), through(socks.url("socks5")));
    auto out = fetch(ioc, local, {.url = "https://no-such-host.invalid/"});
    BOOST_TEST(out.ec == make_error_code(http::error::resolve_failed), out.ec.message());
    BOOST_TEST(contains(out.info.detail, "resolved by the client for " + socks.url("socks5")),
               out.info.detail);
    // ... socks5h:// sends it, and the proxy's failure comes back as its SOCKS reply (microsocks answers
    // 1, general failure, for a name it cannot resolve).
    http::client remote(ioc.get_executor(), tls::context(trust_pki()), through(socks.url("socks5h")));
    out = fetch(ioc, remote, {.url = "https://no-such-host.invalid/"});
    BOOST_TEST(out.ec == make_error_code(http::error::socks_general_failure), out.ec.message());
    BOOST_TEST(contains(out.info.detail, "proxy " + socks.url("socks5h") + " answered SOCKS5 reply 1"),
               out.info.detail);
    BOOST_TEST(contains(out.info.detail, "to CONNECT no-such-host.invalid:443"), out.info.detail);
}

BOOST_AUTO_TEST_CASE(socks5_resolves_the_target_with_the_clients_resolve_overrides) {
    // --resolve names an address for a name DNS does not know: socks5:// (the client resolves) uses it,
    // as a direct connection would, and sends the address to the proxy.
    nginx_server nginx;
    socks_server socks(false);
    boost::asio::io_context ioc;
    auto o = through(socks.url("socks5"));
    o.connect.resolve = {"gateway.invalid:" + port_of(nginx.http_port()) + ":127.0.0.1"};
    http::client client(ioc.get_executor(), o);
    auto out =
        fetch(ioc, client, {.url = "http://gateway.invalid:" + port_of(nginx.http_port()) + "/hello.txt"});
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == "hello from nginx\n");
    BOOST_TEST(out.info.remote_port == socks.port());
}

BOOST_AUTO_TEST_CASE(username_and_password_from_the_url_or_the_option) {
    nginx_server nginx;
    socks_server socks(true);
    boost::asio::io_context ioc;
    const std::string url = "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt";
    {
        http::client client(ioc.get_executor(), tls::context(trust_pki()),
                            through(socks.url("socks5h", "alice:s3cret")));
        auto out = fetch(ioc, client, {.url = url});
        BOOST_TEST(!out.ec, out.ec.message() << " " << out.info.detail);
        BOOST_TEST(out.body == "hello from nginx\n");
        BOOST_TEST(out.info.proxy == socks.url("socks5h")); // never the credentials
    }
    {
        auto opts = through(socks.url("socks5", "alice:wrong"));
        opts.proxy.credentials = "alice:s3cret"; // takes the place of the URL's
        http::client client(ioc.get_executor(), tls::context(trust_pki()), opts);
        auto out = fetch(ioc, client, {.url = url});
        BOOST_TEST(!out.ec, out.ec.message() << " " << out.info.detail);
    }
}

BOOST_AUTO_TEST_CASE(a_wrong_password_is_socks_auth_failed_and_none_is_socks_no_acceptable_method) {
    socks_server socks(true);
    boost::asio::io_context ioc;
    const std::string url = "https://localhost:1/";
    http::client wrong(ioc.get_executor(), tls::context(trust_pki()),
                       through(socks.url("socks5h", "alice:wrong")));
    auto out = fetch(ioc, wrong, {.url = url});
    BOOST_TEST(out.ec == make_error_code(http::error::socks_auth_failed), out.ec.message());
    BOOST_TEST(
        contains(out.info.detail, "proxy " + socks.url("socks5h") + " refused the username and password"),
        out.info.detail);
    BOOST_TEST(!contains(out.info.detail, "wrong"), out.info.detail);
    http::client none(ioc.get_executor(), tls::context(trust_pki()), through(socks.url("socks5h")));
    out = fetch(ioc, none, {.url = url});
    BOOST_TEST(out.ec == make_error_code(http::error::socks_no_acceptable_method), out.ec.message());
    BOOST_TEST(contains(out.info.detail, "no proxy credentials were given"), out.info.detail);
}

BOOST_AUTO_TEST_CASE(a_closed_target_port_is_socks_refused_naming_proxy_code_and_target) {
    socks_server socks(false);
    boost::asio::io_context ioc;
    const auto closed = free_port();
    for (const std::string scheme : {"socks5h", "socks5"}) {
        BOOST_TEST_CONTEXT(scheme) {
            http::client client(ioc.get_executor(), tls::context(trust_pki()), through(socks.url(scheme)));
            auto out = fetch(ioc, client, {.url = "https://127.0.0.1:" + port_of(closed) + "/"});
            BOOST_TEST(out.ec == make_error_code(http::error::socks_refused), out.ec.message());
            BOOST_TEST(
                contains(out.info.detail, "proxy " + socks.url(scheme) +
                                              " answered SOCKS5 reply 5 (connection refused) to CONNECT "
                                              "127.0.0.1:" +
                                              port_of(closed)),
                out.info.detail);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_allowlist_refuses_the_target_before_any_proxy_connection) {
    boost::asio::io_context ioc;
    fault_server proxy(ioc, {{fault::stall()}});
    auto opts = through("socks5h://127.0.0.1:" + port_of(proxy.port()));
    opts.allowed_hosts = {"localhost"};
    http::client client(ioc.get_executor(), tls::context(trust_pki()), opts);
    auto out = fetch(ioc, client, {.url = "https://127.0.0.1:1/"});
    BOOST_TEST(out.ec == make_error_code(http::error::host_not_allowed), out.ec.message());
    ioc.run_for(50ms);
    BOOST_TEST(proxy.accepted() == 0u);
}

BOOST_AUTO_TEST_CASE(proxy_down_is_proxy_connect_failed_naming_it) {
    boost::asio::io_context ioc;
    const auto dead = free_port();
    http::client client(ioc.get_executor(), tls::context(trust_pki()),
                        through("socks5h://127.0.0.1:" + port_of(dead)));
    auto out = fetch(ioc, client, {.url = "https://localhost:1/"});
    BOOST_TEST(out.ec == make_error_code(http::error::proxy_connect_failed), out.ec.message());
    BOOST_TEST(contains(out.info.detail, "proxy socks5h://127.0.0.1:" + port_of(dead)), out.info.detail);
}

BOOST_AUTO_TEST_CASE(a_stalled_socks_answer_is_proxy_tunnel_timeout) {
    boost::asio::io_context ioc;
    fault_server proxy(ioc, {{fault::stall()}});
    auto opts = through("socks5://127.0.0.1:" + port_of(proxy.port()));
    opts.timeouts.proxy_tunnel = 300ms;
    http::client client(ioc.get_executor(), tls::context(trust_pki()), opts);
    auto out = fetch(ioc, client, {.url = "https://127.0.0.1:1/"});
    BOOST_TEST(out.ec == make_error_code(http::error::proxy_tunnel_timeout), out.ec.message());
    BOOST_TEST(contains(out.info.detail, "proxy tunnel phase (proxy socks5://"), out.info.detail);
}

BOOST_AUTO_TEST_CASE(multi_fetch_takes_a_socks_proxy_from_all_proxy_and_never_shows_the_password) {
    nginx_server nginx;
    socks_server socks(true);
    const std::string dir = make_temp_dir("socks_app");
    const std::string log = dir + "/out.log";
    child_process p({MULTI_FETCH_BIN, "--now", "-vv", "--cacert", pki::path("ca.crt"),
                     "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt"},
                    log,
                    {"all_proxy=" + socks.url("socks5h", "alice:s3cret"),
                     "https_proxy=", "HTTPS_PROXY=", "no_proxy=", "NO_PROXY="});
    const auto status = p.wait_for_exit(30s);
    const auto output = read_file(log);
    BOOST_TEST_REQUIRE(status.has_value(), output);
    BOOST_TEST(*status == 0, output);
    BOOST_TEST(contains(output, "hello from nginx"), output);
    BOOST_TEST(contains(output, "proxy " + socks.url("socks5h") + " from all_proxy"), output);
    BOOST_TEST(!contains(output, "s3cret"), output);
}

BOOST_AUTO_TEST_CASE(multi_fetch_dash_x_socks5_with_proxy_user) {
    nginx_server nginx;
    socks_server socks(true);
    const std::string dir = make_temp_dir("socks_app");
    child_process p({MULTI_FETCH_BIN, "--now", "-v", "--cacert", pki::path("ca.crt"), "-x",
                     socks.url("socks5"), "--proxy-user", "alice:s3cret",
                     "https://localhost:" + port_of(nginx.https_port()) + "/hello.txt"},
                    dir + "/x.log");
    const auto status = p.wait_for_exit(30s);
    const auto output = read_file(dir + "/x.log");
    BOOST_TEST_REQUIRE(status.has_value(), output);
    BOOST_TEST(*status == 0, output);
    BOOST_TEST(contains(output, "proxy " + socks.url("socks5") + " from -x/--proxy"), output);
    BOOST_TEST(!contains(output, "s3cret"), output);
}

BOOST_AUTO_TEST_CASE(aws_post_publishes_with_mutual_tls_through_socks5h) {
    nginx_server nginx;
    socks_server socks(false);
    const std::string dir = make_temp_dir("socks_app");
    child_process p({AWS_POST_BIN, "--endpoint", "localhost", "--port", port_of(nginx.mtls_port()),
                     "--cacert", pki::path("ca.crt"), "--cert", pki::path("client.crt"), "--key",
                     pki::path("client.key"), "--topic", "gw", "--qos", "0", "-v"},
                    dir + "/aws.log", {"https_proxy=" + socks.url("socks5h"), "no_proxy=", "NO_PROXY="});
    const auto status = p.wait_for_exit(30s);
    const auto output = read_file(dir + "/aws.log");
    BOOST_TEST_REQUIRE(status.has_value(), output);
    BOOST_TEST(*status == 0, output);
    BOOST_TEST(contains(output, "Response Status:\n200"), output);
    BOOST_TEST(contains(output, "Proxy: proxy " + socks.url("socks5h") + " from https_proxy"), output);
}

BOOST_AUTO_TEST_SUITE_END()
