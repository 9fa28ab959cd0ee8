#pragma once

// Where multi_fetch's URLs come from: the command line, then each --url-file in turn, read a piece at a
// time as the transfers run (so that a long list costs memory for the transfers, not for the list).

#include "options.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace multi_fetch {

/// The per-URL options of a -K file's group (from its start or a `next` line): `header` and `data` lines
/// (curl config syntax), added to the command line's for the group's URLs, and `limit-rate`, which
/// replaces the command line's --limit-rate for them.
struct url_group {
    std::vector<std::string> headers;
    std::vector<data_arg> data;
    std::optional<std::uint64_t> limit_rate; ///< bytes per second, 0: none
    std::string where; ///< "FILE:LINE" of the last line that changed the group, for errors
};

/// One URL with what its -K file says for it: its own output (`output`/`-o`, `remote-name`/`-O`, paired
/// with the group's URLs in order) and its group's options (null: none).
struct url_entry {
    std::string url;
    std::optional<output_arg> output;
    std::shared_ptr<const url_group> group;
    std::string sha256; ///< the -K file's sha256 for this URL (64 hex digits), empty when none
};

class url_source {
public:
    /// Outputs given before their URLs wait in a queue of at most this many (a -K file with more is refused).
    static constexpr std::size_t max_waiting_outputs = 10000;

    /// A longer line stops the reading with an error (a file that is not a URL list, or no newlines).
    static constexpr std::size_t max_line_bytes = 64 * 1024;

    /// `urls` first, then the lines of each file of `files` ("-": stdin; a pipe, terminal or socket is
    /// read asynchronously, a regular file in small synchronous pieces).
    url_source(boost::asio::any_io_executor ex, std::vector<std::string> urls,
               std::vector<std::string> files);
    url_source(const url_source&) = delete;
    url_source& operator=(const url_source&) = delete;
    ~url_source();

    /// Calls `h` with the next URL and its -K options, or nullopt when there are no more (or reading failed:
    /// error()). May call `h` inside the call (a URL at hand), or later from the executor (stdin).
    void async_next(std::function<void(std::optional<url_entry>)> h);
    /// Why the URLs ended early ("" when they simply ran out): a bad line (naming the file, "- (stdin)"
    /// for stdin, and the line number) or a read error.
    const std::string& error() const noexcept { return error_; }
    /// Stops reading: a pending async_next gets nullopt.
    void cancel();
    /// Stops reading because of `why` (then error()), e.g. a group's options the request cannot take.
    void stop(std::string why) { fail(std::move(why)); }

private:
    bool open_next_file();
    void close_file();
    /// Takes one -K line: may set `ready` (a URL whose options are complete). Throws usage_error.
    void take_line(const config_line& line, std::optional<url_entry>& ready);
    void fail(std::string why);

    boost::asio::any_io_executor ex_;
    std::vector<std::string> urls_;
    std::vector<std::string> files_;
    std::size_t next_url_ = 0;
    std::size_t next_file_ = 0;
    // The file being read.
    std::string name_;
    int fd_ = -1;
    bool owns_fd_ = false;
    std::optional<boost::asio::posix::stream_descriptor> async_in_; ///< stdin when not a regular file
    std::string buffer_;
    std::size_t line_number_ = 0;
    bool eof_ = false;
    bool cancelled_ = false;
    std::array<char, 4096> piece_{};
    std::string error_;
    // The -K file's current group, its URL waiting for lines after it (output, header, data), and the
    // outputs given before their URLs.
    std::shared_ptr<url_group> group_;
    std::optional<url_entry> pending_;
    bool pending_complete_ = false; ///< pending_ takes no more lines (a bare URL line): it goes next
    std::size_t group_urls_ = 0;
    std::size_t group_outputs_ = 0;
    std::deque<output_arg> waiting_outputs_;
};

} // namespace multi_fetch
