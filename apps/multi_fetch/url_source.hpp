#pragma once

// Where multi_fetch's URLs come from: the command line, then each --url-file in turn, read a piece at a
// time as the transfers run (so that a long list costs memory for the transfers, not for the list).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace multi_fetch {

class url_source {
public:
    /// A longer line stops the reading with an error (a file that is not a URL list, or no newlines).
    static constexpr std::size_t max_line_bytes = 64 * 1024;

    /// `urls` first, then the lines of each file of `files` ("-": stdin; a pipe, terminal or socket is
    /// read asynchronously, a regular file in small synchronous pieces).
    url_source(boost::asio::any_io_executor ex, std::vector<std::string> urls,
               std::vector<std::string> files);
    url_source(const url_source&) = delete;
    url_source& operator=(const url_source&) = delete;
    ~url_source();

    /// Calls `h` with the next URL, or nullopt when there are no more (or reading failed: error()).
    /// May call `h` inside the call (a URL at hand), or later from the executor (stdin).
    void async_next(std::function<void(std::optional<std::string>)> h);
    /// Why the URLs ended early ("" when they simply ran out): a bad line (naming the file, "- (stdin)"
    /// for stdin, and the line number) or a read error.
    const std::string& error() const noexcept { return error_; }
    /// Stops reading: a pending async_next gets nullopt.
    void cancel();

private:
    bool open_next_file();
    void close_file();

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
};

} // namespace multi_fetch
