// The transfer engine's guarantees: a transfer never completes inside the call that initiates or cancels
// it (bound slots, cancel_all, multi::cancel, ~client, async_retry's forwarded cancel; coroutines and
// Asio's parallel groups rely on it), multi::async_wait_all's own cancellation, and per-request
// deadlines and limits.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>
#include <edgeloop/http/multi.hpp>
#include <edgeloop/retry/async_retry.hpp>

#include <support/fault_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <stdexcept>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace retry = edgeloop::retry;
namespace net = boost::asio;
using namespace edgeloop::test;
using namespace std::chrono_literals;
using boost::system::error_code;

namespace {

/// A plain-HTTP server that reads each request and never answers, and one that answers at once.
struct servers_fixture {
    net::io_context ioc;
    fault_server stalled{ioc, {{fault::read_request(), fault::stall()}}};
    fault_server quick{ioc, {fault::serve_ok()}};

    /// Runs the loop until `n` requests have reached the stalling server (the transfers are in flight).
    void until_stalled(std::size_t n) {
        run_until(
            ioc, [&] { return stalled.requests() >= n; }, 5s);
        BOOST_REQUIRE_EQUAL(stalled.requests(), n);
    }
};

/// Records a completion and whether it ran inside the call that cancelled it.
struct completion_probe {
    bool in_call = false; ///< set around the cancelling call
    bool done = false;
    bool inline_completion = false;
    int calls = 0;
    error_code ec;

    auto handler() {
        return [this](error_code e, http::transfer_info) {
            done = true;
            ++calls;
            ec = e;
            inline_completion = in_call;
        };
    }
    /// Runs `cancel` from a handler on the loop (where a dispatch would run inline), flagged.
    template <typename F>
    void cancel_on_loop(net::io_context& ioc, F cancel) {
        net::post(ioc, [this, cancel]() mutable {
            in_call = true;
            cancel();
            in_call = false;
        });
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(completion_never_inline, servers_fixture)

BOOST_AUTO_TEST_CASE(emitting_a_bound_slot_does_not_complete_inside_the_emit) {
    http::client client(ioc.get_executor());
    net::cancellation_signal signal;
    completion_probe probe;
    client.async_fetch(get(stalled.url()), {}, net::bind_cancellation_slot(signal.slot(), probe.handler()));
    until_stalled(1);
    probe.cancel_on_loop(ioc, [&] { signal.emit(net::cancellation_type::terminal); });
    run_until(
        ioc, [&] { return probe.done; }, 5s);
    BOOST_REQUIRE(probe.done);
    BOOST_TEST(probe.ec == net::error::operation_aborted);
    BOOST_TEST(!probe.inline_completion);
    BOOST_TEST(probe.calls == 1);
}

BOOST_AUTO_TEST_CASE(cancel_all_does_not_complete_inside_the_call) {
    http::client client(ioc.get_executor());
    completion_probe running, queued;
    http::client limited(ioc.get_executor(), {.pool = {.max_total = 1}});
    client.async_fetch(get(stalled.url()), {}, running.handler());
    until_stalled(1);
    running.cancel_on_loop(ioc, [&] { client.cancel_all(); });
    run_until(
        ioc, [&] { return running.done; }, 5s);
    BOOST_TEST(running.ec == net::error::operation_aborted);
    BOOST_TEST(!running.inline_completion);

    // A queued transfer (waiting for the only connection slot) too.
    completion_probe holder;
    limited.async_fetch(get(stalled.url()), {}, holder.handler());
    limited.async_fetch(get(quick.url()), {}, queued.handler());
    until_stalled(2);
    queued.cancel_on_loop(ioc, [&] {
        holder.in_call = true;
        limited.cancel_all();
        holder.in_call = false;
    });
    run_until(
        ioc, [&] { return holder.done && queued.done; }, 5s);
    BOOST_TEST(holder.ec == net::error::operation_aborted);
    BOOST_TEST(queued.ec == net::error::operation_aborted);
    BOOST_TEST(!holder.inline_completion);
    BOOST_TEST(!queued.inline_completion);
    BOOST_TEST(quick.accepted() == 0u);
}

BOOST_AUTO_TEST_CASE(destroying_the_client_does_not_complete_inside_the_destructor) {
    std::optional<http::client> client(std::in_place, ioc.get_executor());
    completion_probe probe;
    client->async_fetch(get(stalled.url()), {}, probe.handler());
    until_stalled(1);
    probe.cancel_on_loop(ioc, [&] { client.reset(); });
    run_until(
        ioc, [&] { return probe.done; }, 5s);
    BOOST_REQUIRE(probe.done);
    BOOST_TEST(probe.ec == net::error::operation_aborted);
    BOOST_TEST(!probe.inline_completion);
}

BOOST_AUTO_TEST_CASE(multi_cancel_does_not_complete_inside_the_call) {
    http::client client(ioc.get_executor());
    http::multi m(client);
    completion_probe probe;
    auto record = probe.handler();
    const auto id =
        m.add({.req = get(stalled.url()),
               .on_done = [&](const error_code& ec, const http::transfer_info& info) { record(ec, info); }});
    until_stalled(1);
    probe.cancel_on_loop(ioc, [&] { BOOST_TEST(m.cancel(id)); });
    run_until(
        ioc, [&] { return probe.done && m.running() == 0u; }, 5s);
    BOOST_REQUIRE(probe.done);
    BOOST_TEST(probe.ec == net::error::operation_aborted);
    BOOST_TEST(!probe.inline_completion);
    BOOST_TEST(probe.calls == 1);
}

BOOST_AUTO_TEST_CASE(async_retry_cancelling_a_transfer_does_not_complete_inside_the_emit) {
    http::client client(ioc.get_executor());
    net::cancellation_signal signal;
    bool in_emit = false, done = false, inline_completion = false;
    error_code result;
    auto attempt = [&](retry::attempt_handler h) {
        auto slot = net::get_associated_cancellation_slot(h);
        client.async_fetch(
            get(stalled.url()), {},
            net::bind_cancellation_slot(
                slot, [h = std::move(h)](error_code ec, http::transfer_info) mutable { std::move(h)(ec); }));
    };
    retry::async_retry(ioc.get_executor(), {}, attempt,
                       net::bind_cancellation_slot(signal.slot(), [&](error_code ec, retry::result) {
                           done = true;
                           result = ec;
                           inline_completion = in_emit;
                       }));
    until_stalled(1);
    net::post(ioc, [&] {
        in_emit = true;
        signal.emit(net::cancellation_type::terminal);
        in_emit = false;
    });
    run_until(
        ioc, [&] { return done; }, 5s);
    BOOST_REQUIRE(done);
    BOOST_TEST(result == net::error::operation_aborted);
    BOOST_TEST(!inline_completion);
}

BOOST_AUTO_TEST_CASE(async_retry_does_not_complete_inside_the_emit_even_if_its_attempt_does) {
    // An attempt that (against Asio's rule) completes inside its own cancellation.
    std::optional<retry::attempt_handler> held;
    auto attempt = [&](retry::attempt_handler h) {
        auto slot = net::get_associated_cancellation_slot(h);
        held.emplace(std::move(h));
        slot.assign([&](net::cancellation_type) {
            auto h2 = std::move(*held);
            held.reset();
            std::move(h2)(net::error::operation_aborted);
        });
    };
    net::cancellation_signal signal;
    bool in_emit = false, done = false, inline_completion = false;
    retry::async_retry(ioc.get_executor(), {}, attempt,
                       net::bind_cancellation_slot(signal.slot(), [&](error_code, retry::result) {
                           done = true;
                           inline_completion = in_emit;
                       }));
    run_until(
        ioc, [&] { return held.has_value(); }, 5s);
    BOOST_REQUIRE(held.has_value());
    net::post(ioc, [&] {
        in_emit = true;
        signal.emit(net::cancellation_type::terminal);
        in_emit = false;
    });
    run_until(
        ioc, [&] { return done; }, 5s);
    BOOST_REQUIRE(done);
    BOOST_TEST(!inline_completion);
}

BOOST_AUTO_TEST_CASE(coroutine_owning_the_signal_resumes_after_the_emit_has_returned) {
    http::client client(ioc.get_executor());
    net::cancellation_signal* signal = nullptr;
    bool in_emit = false, resumed_in_emit = false, done = false;
    error_code result;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            net::cancellation_signal own; // dies with this frame, which the transfer's completion ends
            signal = &own;
            http::request r;
            r.url = stalled.url();
            http::handlers h;
            auto [ec, info] = co_await client.async_fetch(
                std::move(r), std::move(h),
                net::bind_cancellation_slot(own.slot(), net::as_tuple(net::use_awaitable)));
            resumed_in_emit = in_emit;
            result = ec;
            signal = nullptr;
            done = true;
        },
        net::detached);
    until_stalled(1);
    BOOST_REQUIRE(signal != nullptr);
    net::post(ioc, [&] {
        in_emit = true;
        signal->emit(net::cancellation_type::terminal);
        in_emit = false;
    });
    run_until(
        ioc, [&] { return done; }, 5s);
    BOOST_REQUIRE(done);
    BOOST_TEST(result == net::error::operation_aborted);
    BOOST_TEST(!resumed_in_emit);
}

BOOST_AUTO_TEST_CASE(awaitable_or_cancels_the_slower_transfer) {
    using namespace net::experimental::awaitable_operators;
    http::client client(ioc.get_executor());
    bool done = false;
    std::size_t winner = 99;
    std::exception_ptr failure;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            http::request slow;
            slow.url = stalled.url();
            http::request fast;
            fast.url = quick.url();
            http::handlers hs, hf;
            auto r = co_await (client.async_fetch(std::move(slow), std::move(hs), net::use_awaitable) ||
                               client.async_fetch(std::move(fast), std::move(hf), net::use_awaitable));
            winner = r.index();
            BOOST_TEST(std::get<1>(r).status == 200u);
            done = true;
        },
        [&](std::exception_ptr e) { failure = e; });
    run_until(
        ioc, [&] { return done || failure; }, 5s);
    BOOST_TEST(!failure);
    BOOST_REQUIRE(done);
    BOOST_TEST(winner == 1u);
    run_until(
        ioc, [&] { return client.active() == 0u; }, 5s);
    BOOST_TEST(client.active() == 0u);
}

BOOST_AUTO_TEST_CASE(awaitable_and_cancels_the_other_transfer_when_one_fails) {
    using namespace net::experimental::awaitable_operators;
    http::client client(ioc.get_executor());
    bool done = false;
    error_code caught;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            http::request refused;
            refused.url = "http://127.0.0.1:" + std::to_string(free_port()) + "/";
            http::request slow;
            slow.url = stalled.url();
            http::handlers hr, hs;
            try {
                co_await (client.async_fetch(std::move(refused), std::move(hr), net::use_awaitable) &&
                          client.async_fetch(std::move(slow), std::move(hs), net::use_awaitable));
            } catch (const net::multiple_exceptions& e) {
                // Both failed: the refused one, then the other cancelled because of it.
                try {
                    std::rethrow_exception(e.first_exception());
                } catch (const boost::system::system_error& first) {
                    caught = first.code();
                }
            } catch (const boost::system::system_error& e) {
                caught = e.code();
            }
            done = true;
        },
        net::detached);
    run_until(
        ioc, [&] { return done; }, 5s);
    BOOST_REQUIRE(done);
    BOOST_TEST(caught == make_error_code(http::error::connection_refused), caught.message());
    run_until(
        ioc, [&] { return client.active() == 0u; }, 5s);
    BOOST_TEST(client.active() == 0u);
}

BOOST_AUTO_TEST_CASE(parallel_group_wait_for_one_cancels_the_rest) {
    http::client client(ioc.get_executor());
    bool done = false;
    std::array<std::size_t, 2> order{};
    error_code slow_ec, fast_ec;
    http::request slow;
    slow.url = stalled.url();
    http::request fast;
    fast.url = quick.url();
    net::experimental::make_parallel_group(client.async_fetch(std::move(slow), {}, net::deferred),
                                           client.async_fetch(std::move(fast), {}, net::deferred))
        .async_wait(net::experimental::wait_for_one(),
                    [&](std::array<std::size_t, 2> o, error_code e1, http::transfer_info, error_code e2,
                        http::transfer_info) {
                        order = o;
                        slow_ec = e1;
                        fast_ec = e2;
                        done = true;
                    });
    run_until(
        ioc, [&] { return done; }, 5s);
    BOOST_REQUIRE(done);
    BOOST_TEST(order[0] == 1u);
    BOOST_TEST(slow_ec == net::error::operation_aborted);
    BOOST_TEST(!fast_ec);
    BOOST_TEST(client.active() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(multi_wait_all, servers_fixture)

BOOST_AUTO_TEST_CASE(cancelling_the_wait_completes_it_without_cancelling_transfers) {
    http::client client(ioc.get_executor());
    http::multi m(client);
    bool transfer_done = false;
    error_code transfer_ec;
    m.add({.req = get(stalled.url()), .on_done = [&](const error_code& ec, const http::transfer_info&) {
               transfer_done = true;
               transfer_ec = ec;
           }});
    net::cancellation_signal signal;
    bool in_emit = false, waited = false, inline_completion = false;
    error_code wait_ec;
    m.async_wait_all(net::bind_cancellation_slot(signal.slot(), [&](error_code ec) {
        waited = true;
        wait_ec = ec;
        inline_completion = in_emit;
    }));
    until_stalled(1);
    net::post(ioc, [&] {
        in_emit = true;
        signal.emit(net::cancellation_type::terminal);
        in_emit = false;
    });
    run_until(
        ioc, [&] { return waited; }, 5s);
    BOOST_REQUIRE(waited);
    BOOST_TEST(wait_ec == net::error::operation_aborted);
    BOOST_TEST(!inline_completion);
    BOOST_TEST(m.running() == 1u);
    BOOST_TEST(!transfer_done);

    // Another wait still completes when the transfers are done.
    bool second = false;
    m.async_wait_all([&](error_code ec) {
        BOOST_TEST(!ec);
        second = true;
    });
    m.stop();
    run_until(
        ioc, [&] { return second; }, 5s);
    BOOST_TEST(second);
    BOOST_TEST(transfer_ec == net::error::operation_aborted);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(per_request_options, servers_fixture)

BOOST_AUTO_TEST_CASE(a_request_total_deadline_fires_where_the_clients_would_not) {
    http::client client(ioc.get_executor()); // no total deadline, 30 s for the response head
    http::request r = get(stalled.url());
    r.timeouts = http::timeouts{.total = 200ms};
    auto out = fetch(ioc, client, r, 10s);
    BOOST_TEST(out.ec == make_error_code(http::error::total_timeout), http::describe(out.ec, out.info));
    // The client's own deadlines still apply to the others.
    BOOST_TEST(client.options().timeouts.total.count() == 0);
}

BOOST_AUTO_TEST_CASE(a_request_idle_deadline_fires_between_body_bytes) {
    fault_server trickle(ioc,
                         {{fault::read_request(),
                           fault::send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), fault::stall()}});
    http::client client(ioc.get_executor());
    http::request r = get(trickle.url());
    r.timeouts = http::timeouts{.idle = 200ms};
    auto out = fetch(ioc, client, r, 10s);
    BOOST_TEST(out.ec == make_error_code(http::error::idle_timeout), http::describe(out.ec, out.info));
    BOOST_TEST(out.body == "abc");
}

BOOST_AUTO_TEST_CASE(request_limits_replace_the_clients) {
    edgeloop::devserver::server server(ioc.get_executor());
    http::client client(ioc.get_executor(), tls::context({.ca_file = server.ca_file()}));
    http::request r = get(server.url("/bytes/100"));
    r.limits = http::limits{.max_body_bytes = 10};
    auto small = fetch(ioc, client, r);
    BOOST_TEST(small.ec == make_error_code(http::error::body_too_large),
               http::describe(small.ec, small.info));

    // A smaller piece size: on_body never sees more than 7 bytes at once.
    r.limits = http::limits{.body_chunk_bytes = 7};
    std::size_t largest = 0;
    fetch_outcome out;
    auto h = edgeloop::test::detail::recording_handlers(out);
    h.on_body = [&](std::span<const std::byte> bytes) {
        largest = std::max(largest, bytes.size());
        out.body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    };
    client.async_fetch(r, std::move(h), edgeloop::test::detail::recording_completion(out));
    edgeloop::test::detail::wait_for_completion(ioc, out, 10s);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body.size() == 100u);
    BOOST_TEST(largest <= 7u);

    // And the client's own pieces are unaffected by the one that used another size.
    auto plain = fetch(ioc, client, get(server.url("/bytes/40000")));
    BOOST_TEST(!plain.ec, http::describe(plain.ec, plain.info));
    BOOST_TEST(plain.body.size() == 40000u);
}

BOOST_AUTO_TEST_CASE(zero_body_chunk_bytes_is_refused) {
    BOOST_CHECK_THROW(http::client(ioc.get_executor(), {.limits = {.body_chunk_bytes = 0}}),
                      std::invalid_argument);
    http::client client(ioc.get_executor());
    http::request r = get(quick.url());
    r.method = "POST";
    r.body_source = [](std::span<std::byte>) -> std::size_t { return 0; };
    r.limits = http::limits{.body_chunk_bytes = 0};
    auto out = fetch(ioc, client, r, 5s);
    BOOST_TEST(out.ec == make_error_code(http::error::invalid_request), http::describe(out.ec, out.info));
    BOOST_TEST(quick.accepted() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
