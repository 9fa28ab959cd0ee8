#pragma once

// Private to lib/src/http: the connection race of Happy Eyeballs v2 (RFC 8305 section 5) over a name's
// addresses, already in net::happy_eyeballs_order.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace edgeloop::http::detail {

/// Attempt i starts `delay` after attempt i-1 started, or at once when every earlier attempt has failed
/// (delay zero: only then: one address at a time); earlier attempts go on meanwhile. The first attempt to
/// connect wins, the others are closed. Each attempt has its own deadline, as curl: the remaining
/// `budget` when it is the last address, else half of it (budget zero: none). Lives in shared_ptrs held
/// by its pending handlers and its owner.
class connect_race : public std::enable_shared_from_this<connect_race> {
public:
    using endpoint = boost::asio::ip::tcp::endpoint;
    /// Told once, never inside start(): success (the winner's socket, connected, to take, and its address)
    /// or (null pointers) the error
    /// of the race: connection_refused when every address refused, timed_out when one timed out and none
    /// failed otherwise, else the last error. detail() names each address tried and its outcome.
    using done_handler =
        std::function<void(const boost::system::error_code&, boost::asio::ip::tcp::socket*, const endpoint*)>;

    connect_race(boost::asio::any_io_executor ex, std::vector<endpoint> order,
                 std::chrono::milliseconds delay, std::chrono::milliseconds budget, std::string source = {});
    connect_race(const connect_race&) = delete;
    connect_race& operator=(const connect_race&) = delete;

    void start(done_handler done);
    /// Closes every attempt; the handler is dropped untold.
    void cancel();
    const std::string& detail() const noexcept { return detail_; }
    /// detail() and the attempts still waiting for an answer (for a deadline that ends the race).
    std::string describe() const;
    /// Attempts started so far.
    std::size_t started() const noexcept { return attempts_.size(); }

private:
    struct attempt {
        explicit attempt(const boost::asio::any_io_executor& ex)
            : socket(ex)
            , deadline(ex) {}
        boost::asio::ip::tcp::socket socket;
        boost::asio::steady_timer deadline;
        bool finished = false;
        bool timed_out = false;
        std::string note; ///< why it could not start (--interface)
    };

    void start_next();
    void on_attempt(std::size_t i, const boost::system::error_code& ec);
    void finish(const boost::system::error_code& ec, std::size_t winner);

    boost::asio::any_io_executor ex_;
    std::vector<endpoint> order_;
    std::chrono::milliseconds delay_;
    std::chrono::steady_clock::time_point budget_end_;
    bool bounded_;
    std::string source_; ///< connect_options::bind_interface
    std::vector<std::unique_ptr<attempt>> attempts_;
    boost::asio::steady_timer next_;
    done_handler done_;
    std::string detail_;
    std::size_t failed_ = 0, refused_ = 0, timed_out_ = 0;
    boost::system::error_code last_error_;
};

} // namespace edgeloop::http::detail
