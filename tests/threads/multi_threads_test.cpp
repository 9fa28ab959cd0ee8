// The multi engine on an io_context run by two threads (the TSan test: tsan preset, .ci/run).
// The client and its multi live on a strand, as their headers require; transfers are added through the
// strand, cancelled from another thread by posting to it, resumed (on_body_paced) from a third thread,
// and a few are started with client::async_fetch straight from the main thread. Real servers on
// 127.0.0.1: nginx (plain http) and the devserver (https, redirects, slow answers) on its own thread.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/multi.hpp>

#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace net = boost::asio;
using namespace std::chrono_literals;
using edgeloop::test::free_port;
using edgeloop::test::nginx_server;

namespace {

enum class kind { ok, missing, redirect, big, paced, cancelled, refused };

struct result {
    int done_calls = 0;
    boost::system::error_code ec;
    http::transfer_info info;
    std::uint64_t body = 0;
};

/// A queue of work for one plain thread (cancellations, resumes), fed from the io threads.
class worker {
public:
    explicit worker()
        : thread_([this] { loop(); }) {}
    ~worker() {
        {
            std::lock_guard lock(m_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    void push(std::function<void()> f) {
        {
            std::lock_guard lock(m_);
            q_.push_back(std::move(f));
        }
        cv_.notify_all();
    }

private:
    void loop() {
        for (;;) {
            std::unique_lock lock(m_);
            cv_.wait(lock, [&] { return stop_ || !q_.empty(); });
            if (q_.empty())
                return;
            auto f = std::move(q_.front());
            q_.pop_front();
            lock.unlock();
            f();
        }
    }
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> q_;
    bool stop_ = false;
    std::thread thread_;
};

/// The devserver on its own io_context and thread; stopped on that thread.
struct devserver_thread {
    net::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor()};
    std::thread thread{[this] { ioc.run(); }};

    ~devserver_thread() {
        // stop() is not thread-safe: run it on the server's loop, then stop the loop (a slow answer's
        // timer may still be pending there).
        net::post(ioc, [this] {
            server.stop();
            ioc.stop();
        });
        thread.join();
    }
};

/// Runs `ioc` on two threads until `done` is set (then waits for the loop to drain on its own);
/// false when that took longer than `limit` (the loop is then stopped).
bool run_on_two_threads(net::io_context& ioc, std::future<void> done, std::chrono::seconds limit) {
    auto guard = net::make_work_guard(ioc);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i)
        threads.emplace_back([&] { ioc.run(); });
    const bool finished = done.wait_for(limit) == std::future_status::ready;
    guard.reset();
    if (!finished)
        ioc.stop();
    for (auto& t : threads)
        t.join();
    return finished;
}

/// The client's strand, except that a function handed to it by one given thread (the "foreign" thread
/// starting transfers) is waited for: that thread goes on only once the function has run on the strand.
/// A transfer that fails at once on the strand is then complete before async_fetch returns on that
/// thread, which makes deterministic the interleaving a fast loop thread produces by chance: the
/// initiating thread must not hold the transfer's last reference then.
class waiting_strand {
public:
    using inner_type = net::strand<net::io_context::executor_type>;
    waiting_strand(inner_type s, std::thread::id waiter)
        : s_(std::move(s))
        , waiter_(waiter) {}

    net::execution_context& query(net::execution::context_t) const noexcept {
        return net::query(s_, net::execution::context);
    }
    static constexpr net::execution::blocking_t query(net::execution::blocking_t) noexcept {
        return net::execution::blocking.never;
    }
    waiting_strand require(net::execution::blocking_t::never_t) const { return *this; }
    waiting_strand prefer(net::execution::outstanding_work_t::tracked_t) const { return *this; }
    waiting_strand prefer(net::execution::outstanding_work_t::untracked_t) const { return *this; }
    waiting_strand prefer(net::execution::relationship_t::fork_t) const { return *this; }
    waiting_strand prefer(net::execution::relationship_t::continuation_t) const { return *this; }
    template <typename Allocator>
    waiting_strand prefer(const net::execution::allocator_t<Allocator>&) const {
        return *this;
    }
    bool running_in_this_thread() const noexcept { return s_.running_in_this_thread(); }

    template <typename F>
    void execute(F f) const {
        if (std::this_thread::get_id() != waiter_) {
            net::post(s_, std::move(f));
            return;
        }
        std::promise<void> ran;
        auto future = ran.get_future();
        net::post(s_, [f = std::move(f), &ran]() mutable {
            std::move(f)();
            ran.set_value();
        });
        future.wait();
    }

    friend bool operator==(const waiting_strand& a, const waiting_strand& b) noexcept {
        return a.s_ == b.s_ && a.waiter_ == b.waiter_;
    }
    friend bool operator!=(const waiting_strand& a, const waiting_strand& b) noexcept { return !(a == b); }

private:
    inner_type s_;
    std::thread::id waiter_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(multi_threads)

BOOST_AUTO_TEST_CASE(many_transfers_on_two_threads_complete_once_with_their_outcomes) {
    nginx_server nginx;
    devserver_thread server;
    auto& dev = server.server;

    constexpr int rounds = 30;
    const std::string plain = "http://127.0.0.1:" + std::to_string(nginx.http_port());
    const std::string refused = "https://127.0.0.1:" + std::to_string(free_port()) + "/";

    net::io_context ioc;
    auto strand = net::make_strand(ioc);
    http::client client(strand, tls::context({.ca_file = dev.ca_file()}),
                        {.pool = {.max_total = 12, .max_per_host = 6}});
    http::multi m(client);
    worker canceller, resumer;

    // Touched on the strand only (TSan checks that claim).
    std::map<http::multi::id, kind> kinds;
    std::map<http::multi::id, result> results;
    std::promise<void> all_done;

    auto add = [&](kind k, std::string url) {
        auto id = std::make_shared<http::multi::id>(0);
        http::transfer t;
        t.req.url = std::move(url);
        if (k == kind::paced) {
            t.callbacks.on_body_paced = [&, id](std::span<const std::byte> bytes,
                                                std::function<void()> resume) {
                results[*id].body += bytes.size();
                resumer.push(std::move(resume)); // resumed from another thread
            };
        } else {
            t.callbacks.on_body = [&, id](std::span<const std::byte> bytes) {
                results[*id].body += bytes.size();
            };
        }
        t.on_done = [&, id](const boost::system::error_code& ec, const http::transfer_info& info) {
            auto& r = results[*id];
            ++r.done_calls;
            r.ec = ec;
            r.info = info;
        };
        *id = m.add(std::move(t));
        kinds[*id] = k;
        if (k == kind::cancelled)
            canceller.push([&, tid = *id] { net::post(strand, [&, tid] { m.cancel(tid); }); });
    };

    // Started from this thread, not the strand: allowed for async_fetch (the completion is bound to it).
    std::atomic<int> direct_done{0};
    std::vector<result> direct(4);
    for (std::size_t i = 0; i < direct.size(); ++i)
        client.async_fetch(
            {.url = dev.url("/bytes/3000")}, {},
            net::bind_executor(strand, [&, i](boost::system::error_code ec, http::transfer_info info) {
                ++direct[i].done_calls;
                direct[i].ec = ec;
                direct[i].info = std::move(info);
                ++direct_done;
            }));

    // Adds arrive in several posts, interleaved with the transfers already running.
    for (int round = 0; round < rounds; ++round)
        net::post(strand, [&, round] {
            add(kind::ok, dev.url("/bytes/2000"));
            add(kind::missing, dev.url("/404"));
            add(kind::redirect, dev.url("/redirect?to=/bytes/100"));
            add(kind::big, plain + "/100k.bin");
            add(kind::ok, plain + "/hello.txt");
            add(kind::paced, dev.url("/bytes/40000"));
            add(kind::cancelled, dev.url("/200?sleep=20000"));
            if (round % 10 == 0)
                add(kind::refused, refused);
            if (round == rounds - 1)
                m.async_wait_all([&](boost::system::error_code) {
                    client.cancel_all(); // closes the idle connections so that the loop drains
                    all_done.set_value();
                });
        });

    const bool finished = run_on_two_threads(ioc, all_done.get_future(), 120s);
    BOOST_REQUIRE_MESSAGE(finished, "the transfers did not all complete within 120 s");

    std::map<kind, int> seen;
    int reused = 0;
    for (const auto& [id, k] : kinds) {
        const auto& r = results[id];
        BOOST_TEST_CONTEXT("transfer " << id << " kind " << int(k)) {
            BOOST_TEST(r.done_calls == 1);
            ++seen[k];
            reused += r.info.reused_connection;
            switch (k) {
            case kind::ok:
                BOOST_TEST(!r.ec, http::describe(r.ec, r.info));
                BOOST_TEST(r.info.status == 200u);
                BOOST_TEST((r.body == 2000u || r.body == 17u));
                break;
            case kind::missing:
                BOOST_TEST(!r.ec, http::describe(r.ec, r.info));
                BOOST_TEST(r.info.status == 404u);
                break;
            case kind::redirect:
                BOOST_TEST(!r.ec, http::describe(r.ec, r.info));
                BOOST_TEST(r.info.status == 200u);
                BOOST_TEST(r.info.redirects == 1u);
                BOOST_TEST(r.body == 100u);
                break;
            case kind::big:
                BOOST_TEST(!r.ec, http::describe(r.ec, r.info));
                BOOST_TEST(r.body == 102400u);
                break;
            case kind::paced:
                BOOST_TEST(!r.ec, http::describe(r.ec, r.info));
                BOOST_TEST(r.body == 40000u);
                break;
            case kind::cancelled:
                BOOST_TEST(r.ec == net::error::operation_aborted, http::describe(r.ec, r.info));
                break;
            case kind::refused:
                BOOST_TEST(r.ec == make_error_code(http::error::connection_refused),
                           http::describe(r.ec, r.info));
                break;
            }
        }
    }
    BOOST_TEST(seen[kind::ok] == 2 * rounds);
    BOOST_TEST(seen[kind::cancelled] == rounds);
    BOOST_TEST(seen[kind::refused] == 3);
    BOOST_TEST(reused > 0); // the pool handed connections back and forth between the threads
    BOOST_TEST(direct_done.load() == int(direct.size()));
    for (const auto& r : direct) {
        BOOST_TEST(r.done_calls == 1);
        BOOST_TEST(!r.ec, http::describe(r.ec, r.info));
        BOOST_TEST(r.info.status == 200u);
    }
    BOOST_TEST(m.running() == 0u);
    BOOST_TEST(client.active() == 0u);
}

BOOST_AUTO_TEST_CASE(transfers_started_from_a_foreign_thread_while_the_loop_runs) {
    // async_fetch from a thread that is neither the strand nor running the loop, while the loop (two
    // threads) runs the transfers started before: many of them fail at once on the strand (a missing body
    // file, an invalid method), and the client's executor (waiting_strand) lets the starting call return
    // only after that: each transfer, with its callbacks, must still end on the strand.
    devserver_thread server;
    auto& dev = server.server;
    const std::string refused = "https://127.0.0.1:" + std::to_string(free_port()) + "/";
    const std::string missing_file = edgeloop::test::make_temp_dir("edgeloop-threads") + "/missing.bin";

    net::io_context ioc;
    auto strand = net::make_strand(ioc);
    std::promise<std::thread::id> starter_id;
    auto starter_known = starter_id.get_future().share();

    enum kinds { ok, no_file, invalid, refused_kind, count };
    constexpr int n = 400;
    std::atomic<int> done{0};
    std::array<std::atomic<int>, count> expected{};
    std::array<std::atomic<int>, count> seen{};
    std::atomic<int> released_off_strand{0};
    std::promise<void> all_done;
    std::optional<http::client> client;
    std::thread starter([&] {
        starter_known.wait();
        for (int i = 0; i < n; ++i) {
            const auto k = static_cast<kinds>(i % 8 == 0   ? ok
                                              : i % 8 == 7 ? refused_kind
                                              : i % 2      ? no_file
                                                           : invalid);
            http::request r;
            r.url = k == refused_kind ? refused : dev.url("/bytes/100");
            if (k == no_file) {
                r.method = "POST";
                r.body_file = missing_file;
            } else if (k == invalid)
                r.method = "BAD METHOD";
            ++expected[k];
            // Owned by the transfer alone: released where the transfer is destroyed.
            struct release_probe {
                waiting_strand::inner_type strand;
                std::atomic<int>* off;
                ~release_probe() { *off += !strand.running_in_this_thread(); }
            };
            http::handlers h;
            h.on_response = [probe = std::make_shared<release_probe>(strand, &released_off_strand)](
                                const http::response_head&) {};
            client->async_fetch(
                std::move(r), std::move(h),
                net::bind_executor(strand, [&, k](boost::system::error_code ec, http::transfer_info info) {
                    const bool as_expected =
                        k == ok        ? !ec && info.status == 200u && info.body_bytes == 100u
                        : k == no_file ? ec == make_error_code(http::error::request_body_unreadable)
                        : k == invalid ? ec == make_error_code(http::error::invalid_request)
                                       : ec == make_error_code(http::error::connection_refused);
                    seen[k] += as_expected;
                    if (++done == n) {
                        client->cancel_all(); // on the strand: closes the idle connections
                        all_done.set_value();
                    }
                }));
        }
    });
    client.emplace(waiting_strand(strand, starter.get_id()), tls::context({.ca_file = dev.ca_file()}),
                   http::client_options{.pool = {.max_per_host = 4}});
    starter_id.set_value(starter.get_id());
    const bool finished = run_on_two_threads(ioc, all_done.get_future(), 120s);
    starter.join();
    std::filesystem::remove_all(std::filesystem::path(missing_file).parent_path());
    BOOST_REQUIRE_MESSAGE(finished, "the transfers did not all complete within 120 s");
    for (int k = 0; k < count; ++k)
        BOOST_TEST(seen[k].load() == expected[k].load(), "kind " << k);
    BOOST_TEST(done.load() == n);
    BOOST_TEST(released_off_strand.load() == 0, "transfers destroyed off the strand");
    BOOST_TEST(client->active() == 0u);
}

BOOST_AUTO_TEST_CASE(two_clients_on_their_own_strands_share_one_tls_context) {
    devserver_thread server;
    auto& dev = server.server;

    net::io_context ioc;
    const tls::context shared({.ca_file = dev.ca_file()});
    auto strand_a = net::make_strand(ioc);
    auto strand_b = net::make_strand(ioc);
    http::client a(strand_a, shared, {.pool = {.max_per_host = 3}});
    http::client b(strand_b, shared, {.pool = {.max_per_host = 3}});
    http::multi ma(a), mb(b);

    constexpr int per_client = 40;
    std::atomic<int> ok{0}, finished{0};
    std::promise<void> all_done;
    auto fill = [&](net::strand<net::io_context::executor_type> s, http::multi* m) {
        net::post(s, [&, m] {
            for (int i = 0; i < per_client; ++i)
                m->add({.req = {.url = dev.url("/bytes/1500")},
                        .on_done = [&](const boost::system::error_code& ec, const http::transfer_info& info) {
                            ok += !ec && info.status == 200u && info.body_bytes == 1500u;
                            if (++finished == 2 * per_client)
                                all_done.set_value();
                        }});
        });
    };
    fill(strand_a, &ma);
    fill(strand_b, &mb);
    const bool done = run_on_two_threads(ioc, all_done.get_future(), 120s);
    // Close the kept-alive connections on their strands before the clients go.
    net::post(strand_a, [&] { a.cancel_all(); });
    net::post(strand_b, [&] { b.cancel_all(); });
    ioc.restart();
    ioc.run_for(5s);
    BOOST_REQUIRE(done);
    BOOST_TEST(ok.load() == 2 * per_client);
    BOOST_TEST(a.cached_tls_sessions() == 1u);
    BOOST_TEST(b.cached_tls_sessions() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
