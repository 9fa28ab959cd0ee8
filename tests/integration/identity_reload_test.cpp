// aws_post reloading its client certificate and key at run time (issue 14): when the files are
// replaced (renamed in, as renewal tools do; seen through inotify) and on SIGHUP, against the devserver,
// which from the first publish made with the new certificate on refuses the old one. Every publish of
// --count must arrive, none with the old certificate after the new one was seen.
#include <support/process.hpp>
#include <support/servers.hpp>

#include <edgeloop/devserver.hpp>
#include <edgeloop/tls/expiry_check.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace edgeloop::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string old_cn = "edgeloop devserver client"; // issued by the devserver
const std::string new_cn = "edgeloop-test-client";      // tests/pki client.crt

bool contains(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

/// Replaces `to` by a copy of `from` the way renewal tools do: written aside, renamed in.
void rename_in(const std::string& from, const std::string& to) {
    const std::string tmp = to + ".new";
    fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write);
    fs::rename(tmp, to);
}

/// The devserver on a thread of its own (client certificates of its CA or the test PKI's), recording
/// the client CN of every publish; once one came with new_cn, old_cn ones are refused with 503.
struct rotating_server {
    boost::asio::io_context ioc;
    std::mutex mutex;
    std::vector<std::string> accepted;
    std::size_t refused_old = 0;
    bool new_seen = false;
    /// Runs (on the server's thread, under the lock) after the n-th accepted publish.
    std::function<void(std::size_t n)> after;
    std::unique_ptr<edgeloop::devserver::server> dev;
    std::string dir = make_temp_dir("identity_reload");
    std::string old_cert, old_key;
    std::thread loop;

    rotating_server() {
        edgeloop::devserver::options o{.require_client_certificate = true,
                                       .client_ca_file = pki::path("ca.crt")};
        o.publish_hook = [this](const edgeloop::devserver::received_publish& p) -> unsigned {
            std::lock_guard lock(mutex);
            if (p.client_cn == new_cn)
                new_seen = true;
            else if (new_seen) {
                ++refused_old;
                return 503; // retried by aws_post: a loss would not show, the count here does
            }
            accepted.push_back(p.client_cn);
            if (after)
                after(accepted.size());
            return 0;
        };
        dev = std::make_unique<edgeloop::devserver::server>(ioc.get_executor(), o);
        std::tie(old_cert, old_key) = dev->issue_client_certificate(dir);
        loop = std::thread([this] { ioc.run(); });
    }
    ~rotating_server() {
        boost::asio::post(ioc, [this] { dev->stop(); });
        loop.join();
    }
    std::vector<std::string> args(const std::string& cert, const std::string& key) const {
        return {AWS_POST_BIN,
                "--endpoint",
                "127.0.0.1",
                "--port",
                std::to_string(dev->port()),
                "--cacert",
                dev->ca_file(),
                "--cert",
                cert,
                "--key",
                key,
                "--count",
                "100",
                "--interval",
                "20",
                "--backoff-base-ms",
                "5",
                "--backoff-max-ms",
                "50"};
    }
    /// The accepted publishes are old_cn ones, then new_cn ones only.
    void check_sequence() {
        std::lock_guard lock(mutex);
        BOOST_TEST(accepted.size() == 100u);
        BOOST_TEST(refused_old == 0u); // the old certificate was never used after the new one
        std::size_t first_new = 0;
        while (first_new < accepted.size() && accepted[first_new] == old_cn)
            ++first_new;
        BOOST_TEST(first_new >= 30u);
        BOOST_TEST(first_new < accepted.size(), "the new certificate was never used");
        for (std::size_t i = first_new; i < accepted.size(); ++i)
            BOOST_TEST(accepted[i] == new_cn, "publish " << i + 1 << " came with CN " << accepted[i]);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(aws_post_identity_reload)

BOOST_AUTO_TEST_CASE(files_renamed_in_are_reloaded_and_no_publish_is_lost) {
    rotating_server s;
    const std::string cert = s.dir + "/client.crt", key = s.dir + "/client.key";
    s.after = [&](std::size_t n) {
        if (n == 30) { // the renewal: certificate then key, each renamed over the old one
            rename_in(pki::path("client.crt"), cert);
            rename_in(pki::path("client.key"), key);
        }
    };
    const std::string log = s.dir + "/aws_post.log";
    child_process p(s.args(cert, key), log);
    const auto status = p.wait_for_exit(60s);
    const std::string out = read_file(log);
    BOOST_TEST_REQUIRE(status.has_value(), out);
    BOOST_TEST(*status == 0, out);
    BOOST_TEST(contains(out, "file changed: "), out);
    BOOST_TEST(contains(out, "identity reloaded (cert CN=" + new_cn + ", expires "), out);
    s.check_sequence();
}

BOOST_AUTO_TEST_CASE(sighup_reloads_and_a_bad_reload_keeps_the_identity) {
    // --cert/--key are symbolic links into a directory that is not watched: only SIGHUP reloads.
    rotating_server s;
    const std::string store = s.dir + "/store";
    fs::create_directory(store);
    rename_in(s.old_cert, store + "/current.crt");
    rename_in(s.old_key, store + "/current.key");
    const std::string cert = s.dir + "/device.crt", key = s.dir + "/device.key";
    fs::create_symlink(store + "/current.crt", cert);
    fs::create_symlink(store + "/current.key", key);
    std::atomic<int> pid{-1};
    s.after = [&](std::size_t n) {
        if (n == 20) { // a certificate that is not the key's: refused, the old identity stays
            rename_in(pki::path("client.crt"), store + "/current.crt");
            ::kill(pid, SIGHUP);
        } else if (n == 40) {
            rename_in(pki::path("client.key"), store + "/current.key");
            ::kill(pid, SIGHUP);
        }
    };
    const std::string log = s.dir + "/aws_post.log";
    child_process p(s.args(cert, key), log);
    pid = p.pid();
    const auto status = p.wait_for_exit(60s);
    const std::string out = read_file(log);
    BOOST_TEST_REQUIRE(status.has_value(), out);
    BOOST_TEST(*status == 0, out);
    BOOST_TEST(contains(out, "SIGHUP: identity not reloaded, keeping the current one: "), out);
    BOOST_TEST(contains(out, "SIGHUP: identity reloaded (cert CN=" + new_cn + ", expires "), out);
    BOOST_TEST(!contains(out, "file changed"), out);
    s.check_sequence();
    std::lock_guard lock(s.mutex);
    for (std::size_t i = 0; i < 40; ++i) // the failed reload changed nothing
        BOOST_TEST(s.accepted[i] == old_cn, "publish " << i + 1);
}

BOOST_AUTO_TEST_SUITE_END()

// A PKCS#11 token removed while a process uses a key in it (issue 14): multi_fetch, with a SoftHSM2
// token of its own (tests/pki/softhsm-token.sh in a temp dir), fetches from the devserver (a new
// connection per request, so each one signs with the token), then its token is removed (the token's
// directory) and it fetches again: a named error, no crash.
BOOST_AUTO_TEST_SUITE(pkcs11_token_removed)

namespace {

void removed_between_connections() {
    boost::asio::io_context ioc;
    edgeloop::devserver::options o{.require_client_certificate = true, .client_ca_file = pki::path("ca.crt")};
    o.close_after_requests = 1; // each transfer a new connection and handshake
    edgeloop::devserver::server dev(ioc.get_executor(), o);
    std::thread loop([&ioc] { ioc.run(); });
    struct stop_server {
        boost::asio::io_context& ioc;
        edgeloop::devserver::server& dev;
        std::thread& loop;
        ~stop_server() {
            boost::asio::post(ioc, [this] { dev.stop(); });
            loop.join();
        }
    } stopper{ioc, dev, loop};

    const std::string dir = make_temp_dir("token_removed");
    const std::string hsm = dir + "/hsm";
    BOOST_TEST_REQUIRE(std::system(("\"" EDGELOOP_SOFTHSM_SCRIPT "\" '" + hsm + "' '" + pki::dir() + "' >'" +
                                    dir + "/token.log' 2>&1")
                                       .c_str()) == 0,
                       read_file(dir + "/token.log"));
    const std::string conf = "SOFTHSM2_CONF=" + hsm + "/softhsm2.conf";
    const std::string fifo = dir + "/urls";
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const std::string log = dir + "/multi_fetch.log";
    // The URLs on stdin (-K -, read asynchronously; a -K FIFO by name would be read blocking).
    child_process p(
        {"/bin/sh", "-c", "exec \"$0\" \"$@\" < \"$EDGELOOP_URLS\"", MULTI_FETCH_BIN, "--cacert",
         dev.ca_file(), "--key",
         "pkcs11:token=edgeloop;object=device;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so",
         "--pin-file", hsm + "/pin", "-K", "-"},
        log, {conf, "EDGELOOP_URLS=" + fifo});
    // A multi_fetch gone early must fail the test, not kill it with SIGPIPE.
    struct ignore_sigpipe {
        struct sigaction old {};
        ignore_sigpipe() {
            struct sigaction ign {};
            ign.sa_handler = SIG_IGN;
            ::sigaction(SIGPIPE, &ign, &old);
        }
        ~ignore_sigpipe() { ::sigaction(SIGPIPE, &old, nullptr); }
    } no_sigpipe;
    // Read-write: never waits, and the URLs stay in the pipe however often multi_fetch opens it (it
    // opens -K files once to check them); closing it is multi_fetch's end of input.
    const int urls = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    BOOST_TEST_REQUIRE(urls >= 0);
    const auto send = [urls](const std::string& url) {
        const std::string line = url + "\n";
        BOOST_TEST(::write(urls, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    };
    // The second URL names the server by another name: a full handshake (a resumed session would need
    // no signature), on a new connection (close_after_requests).
    const std::string second_url = "https://localhost:" + std::to_string(dev.port()) + "/201";
    send(dev.url("/200"));
    // multi_fetch's lines are buffered until it exits: the server tells when the first request (made
    // after its handshake, the only step that signs) has come.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (dev.requests_served() < 1 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST_REQUIRE(dev.requests_served() == 1u, read_file(log));
    fs::remove_all(hsm + "/tokens"); // the token's files: SoftHSM2's "token removed"
    send(second_url);
    ::close(urls);
    const auto status = p.wait_for_exit(30s);
    const std::string out = read_file(log);
    BOOST_TEST_REQUIRE(status.has_value(), out);
    BOOST_TEST(*status == 1, out); // multi_fetch's "a transfer failed", not a crash
    BOOST_TEST(contains(out, "[1] -==- " + dev.url("/200") + " download complete: HTTP 200"), out);
    BOOST_TEST(contains(out, "[2] -==- " + second_url + " download failed: "), out);
    BOOST_TEST(dev.requests_served() == 1u);
    BOOST_TEST(contains(out, "PKCS#11 token of the client key cannot sign"), out);
}

} // namespace

BOOST_AUTO_TEST_CASE(token_directory_removed) {
    removed_between_connections();
}

BOOST_AUTO_TEST_SUITE_END()

// The daily re-check of the client certificate's expiry (issue 14): tls::expiry_warning, and the apps
// logging it again at each check (EDGELOOP_EXPIRY_CHECK_SECONDS shortens the day).
BOOST_AUTO_TEST_SUITE(identity_expiry_recheck)

namespace {

std::string make_soon_cert(const std::string& dir, const std::string& name, int days) {
    const std::string base = dir + "/" + name;
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days " + std::to_string(days) +
        " -subj /CN=" + name + " -keyout " + base + ".key -out " + base + ".crt 2>/dev/null";
    BOOST_REQUIRE(std::system(command.c_str()) == 0);
    return base;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
        ++n;
    return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(expiry_warning_as_of_a_time) {
    namespace tls = edgeloop::tls;
    const std::string dir = make_temp_dir("expiry_recheck");
    const std::string soon = make_soon_cert(dir, "soon", 5);
    tls::context ctx({.cert_file = soon + ".crt", .key_file = soon + ".key"});
    const auto now = std::chrono::system_clock::now();
    const std::string w = tls::expiry_warning(ctx, now);
    BOOST_TEST(contains(w, "client certificate " + soon + ".crt expires "), w);
    BOOST_TEST((contains(w, ", in 4 days: renew it") || contains(w, ", in 5 days: renew it")), w);
    const std::string past = tls::expiry_warning(ctx, now + std::chrono::hours(24 * 6));
    BOOST_TEST(contains(past, "client certificate " + soon + ".crt expired "), past);
    BOOST_TEST(tls::expiry_warning(ctx, now - std::chrono::hours(24 * 60)).empty());
    tls::context later({.cert_file = soon + ".crt", .key_file = soon + ".key", .expiry_warning_days = 0});
    BOOST_TEST(tls::expiry_warning(later, now).empty()); // warnings off
    tls::context none({});
    BOOST_TEST(tls::expiry_warning(none, now).empty());

    // The check runs on its timer and asks for the current context each time.
    boost::asio::io_context ioc;
    unsigned asked = 0;
    tls::expiry_check check(
        ioc.get_executor(),
        [&]() -> const tls::context* {
            ++asked;
            return &ctx;
        },
        std::chrono::milliseconds(20));
    ioc.run_for(std::chrono::milliseconds(200));
    BOOST_TEST(check.checks() >= 2u);
    BOOST_TEST(asked == check.checks());
    check.stop();
    ioc.restart();
    BOOST_TEST(ioc.run_for(std::chrono::milliseconds(100)) <= 1u); // nothing left to wait for
}

BOOST_AUTO_TEST_CASE(a_running_app_warns_again) {
    const std::string dir = make_temp_dir("expiry_recheck_app");
    const std::string soon = make_soon_cert(dir, "soon", 5);
    boost::asio::io_context ioc;
    edgeloop::devserver::server dev(ioc.get_executor());
    std::thread loop([&ioc] { ioc.run(); });
    const std::string log = dir + "/multi_fetch.log";
    {
        child_process p({MULTI_FETCH_BIN, "--cacert", dev.ca_file(), "--cert", soon + ".crt", "--key",
                         soon + ".key", dev.url("/200?sleep=1500")},
                        log, {"EDGELOOP_EXPIRY_CHECK_SECONDS=0.2"});
        const auto status = p.wait_for_exit(30s);
        BOOST_TEST_REQUIRE(status.has_value(), read_file(log));
        BOOST_TEST(*status == 0, read_file(log));
    }
    boost::asio::post(ioc, [&dev] { dev.stop(); });
    loop.join();
    const std::string out = read_file(log);
    // Once when the context is built, then at each check while the transfer runs (~7 in 1.5 s).
    BOOST_TEST(occurrences(out, "client certificate " + soon + ".crt expires ") >= 3u, out);
}

BOOST_AUTO_TEST_SUITE_END()
