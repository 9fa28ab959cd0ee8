#include "url_source.hpp"

#include "options.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace multi_fetch {

url_source::url_source(boost::asio::any_io_executor ex, std::vector<std::string> urls,
                       std::vector<std::string> files)
    : ex_(std::move(ex))
    , urls_(std::move(urls))
    , files_(std::move(files)) {}

url_source::~url_source() {
    close_file();
}

void url_source::close_file() {
    if (async_in_) {
        boost::system::error_code ignored;
        async_in_->cancel(ignored);
        async_in_->release(); // stdin stays open
        async_in_.reset();
    }
    if (owns_fd_ && fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
    owns_fd_ = false;
    buffer_.clear();
    eof_ = false;
    line_number_ = 0;
}

bool url_source::open_next_file() {
    close_file();
    if (next_file_ == files_.size())
        return false;
    name_ = files_[next_file_++];
    if (name_ == "-") {
        name_ = "- (stdin)";
        fd_ = STDIN_FILENO;
        struct stat st {};
        if (::fstat(fd_, &st) == 0 && !S_ISREG(st.st_mode))
            async_in_.emplace(ex_, fd_);
    } else {
        fd_ = ::open(name_.c_str(), O_RDONLY | O_CLOEXEC);
        owns_fd_ = true;
        if (fd_ < 0) {
            error_ = "--url-file " + name_ + ": cannot open (" + std::strerror(errno) + ")";
            return false;
        }
    }
    return true;
}

void url_source::cancel() {
    cancelled_ = true;
    if (async_in_) {
        boost::system::error_code ignored;
        async_in_->cancel(ignored);
    }
}

void url_source::async_next(std::function<void(std::optional<std::string>)> h) {
    if (cancelled_)
        return h(std::nullopt);
    if (next_url_ < urls_.size())
        return h(urls_[next_url_++]);
    for (;;) {
        if (fd_ < 0 && !open_next_file())
            return h(std::nullopt);
        // A whole line at hand (or the last one, without a newline, at the end of the file).
        const auto nl = buffer_.find('\n');
        if (nl != std::string::npos || (eof_ && !buffer_.empty())) {
            const std::size_t end = nl == std::string::npos ? buffer_.size() : nl;
            std::string line = buffer_.substr(0, end);
            buffer_.erase(0, nl == std::string::npos ? end : end + 1);
            try {
                if (auto url = parse_url_line(name_, ++line_number_, line))
                    return h(std::move(*url));
            } catch (const usage_error& e) {
                error_ = e.what();
                close_file();
                next_file_ = files_.size();
                return h(std::nullopt);
            }
            continue;
        }
        if (eof_) {
            close_file();
            continue;
        }
        if (buffer_.size() > max_line_bytes) { // no newline in sight: not a list of URLs
            error_ = "--url-file " + name_ + ":" + std::to_string(line_number_ + 1) + ": line longer than " +
                     std::to_string(max_line_bytes) + " bytes";
            close_file();
            next_file_ = files_.size();
            return h(std::nullopt);
        }
        if (async_in_) {
            async_in_->async_read_some(
                boost::asio::buffer(piece_),
                [this, h = std::move(h)](boost::system::error_code ec, std::size_t n) mutable {
                    if (cancelled_)
                        return h(std::nullopt);
                    buffer_.append(piece_.data(), n);
                    if (ec == boost::asio::error::eof)
                        eof_ = true;
                    else if (ec) {
                        error_ = "--url-file " + name_ + ": " + ec.message();
                        eof_ = true;
                    }
                    async_next(std::move(h));
                });
            return;
        }
        const auto n = ::read(fd_, piece_.data(), piece_.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error_ = "--url-file " + name_ + ": " + std::strerror(errno);
            eof_ = true;
        } else if (n == 0) {
            eof_ = true;
        } else {
            buffer_.append(piece_.data(), static_cast<std::size_t>(n));
        }
    }
}

} // namespace multi_fetch
