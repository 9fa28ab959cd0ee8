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

namespace {

std::string where(const std::string& path, std::size_t number) {
    return "--url-file " + path + ":" + std::to_string(number);
}

} // namespace

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

void url_source::fail(std::string why) {
    error_ = std::move(why);
    pending_.reset();
    pending_complete_ = false;
    close_file();
    next_file_ = files_.size();
}

void url_source::take_line(const config_line& line, std::optional<url_entry>& ready) {
    const auto here = where(name_, line_number_);
    const auto release = [&] {
        if (pending_) {
            if (group_ && (!group_->headers.empty() || !group_->data.empty() || group_->limit_rate))
                pending_->group = group_;
            ready = std::move(pending_);
            pending_.reset();
        }
        pending_complete_ = false;
    };
    const auto change_group = [&] { // copy on write: URLs already out keep theirs
        if (!group_ || group_.use_count() > 1)
            group_ = std::make_shared<url_group>(group_ ? *group_ : url_group{});
        group_->where = here;
    };
    if (line.name == "url-done") {
        release();
    } else if (line.name == "url") {
        release();
        pending_.emplace();
        pending_->url = line.value;
        pending_->sha256 = line.sha256;
        pending_complete_ = line.bare;
        ++group_urls_;
        if (!waiting_outputs_.empty()) {
            pending_->output = std::move(waiting_outputs_.front());
            waiting_outputs_.pop_front();
        }
    } else if (line.name == "next") {
        release();
        group_.reset();
        group_urls_ = group_outputs_ = 0;
        waiting_outputs_.clear();
    } else if (line.name == "output" || line.name == "remote-name") {
        output_arg out{.remote_name = line.name == "remote-name", .path = line.value};
        ++group_outputs_;
        if (group_outputs_ > group_urls_) {
            if (waiting_outputs_.size() == max_waiting_outputs)
                throw usage_error(here + ": more than " + std::to_string(max_waiting_outputs) +
                                  " outputs waiting for their URLs");
            waiting_outputs_.push_back(std::move(out));
        } else if (group_outputs_ == group_urls_ && pending_ && !pending_->output) {
            pending_->output = std::move(out);
        } else {
            throw usage_error(here + ": option " + line.name + ": its URL (number " +
                              std::to_string(group_outputs_) +
                              " of this group) has already started; give an output before the next url line");
        }
    } else if (line.name == "sha256") {
        if (!pending_ || pending_complete_ || !pending_->sha256.empty())
            throw usage_error(here + ": sha256: give it once, on the line after its url = line (or as \"URL "
                                     "sha256=HEX\" on the URL's own line)");
        pending_->sha256 = line.value;
    } else if (line.name == "limit-rate") {
        change_group();
        group_->limit_rate = parse_rate(line.value); // checked when the line was read
    } else if (line.name == "header") {
        change_group();
        group_->headers.push_back(line.value);
    } else {
        change_group();
        const auto how = line.name == "data-binary" ? data_arg::kind::binary
                         : line.name == "data-raw"  ? data_arg::kind::raw
                         : line.name == "json"      ? data_arg::kind::json
                                                    : data_arg::kind::ascii;
        group_->data.push_back({how, line.value});
    }
}

void url_source::async_next(std::function<void(std::optional<url_entry>)> h) {
    if (cancelled_)
        return h(std::nullopt);
    if (next_url_ < urls_.size())
        return h(url_entry{.url = urls_[next_url_++], .output = {}, .group = {}, .sha256 = {}});
    for (;;) {
        if (fd_ < 0 && !open_next_file())
            return h(std::nullopt);
        if (pending_complete_) { // a bare URL line: it goes before any later line is read
            std::optional<url_entry> ready;
            take_line(config_line{"url-done", "", false}, ready);
            return h(std::move(ready));
        }
        // A whole line at hand (or the last one, without a newline, at the end of the file).
        const auto nl = buffer_.find('\n');
        if (nl != std::string::npos || (eof_ && !buffer_.empty())) {
            const std::size_t end = nl == std::string::npos ? buffer_.size() : nl;
            std::string line = buffer_.substr(0, end);
            buffer_.erase(0, nl == std::string::npos ? end : end + 1);
            std::optional<url_entry> ready;
            try {
                if (auto parsed = parse_config_line(name_, ++line_number_, line))
                    take_line(*parsed, ready);
            } catch (const usage_error& e) {
                // The URL before the bad line, with the options read so far, still goes; nothing after.
                std::optional<url_entry> last;
                take_line(config_line{"next", "", false}, last);
                fail(e.what());
                return h(std::move(last));
            }
            if (ready)
                return h(std::move(ready));
            continue;
        }
        if (eof_) {
            // The end of the file ends its last group: its last URL goes.
            std::optional<url_entry> ready;
            take_line(config_line{"next", "", false}, ready);
            close_file();
            if (ready)
                return h(std::move(ready));
            continue;
        }
        if (buffer_.size() > max_line_bytes) { // no newline in sight: not a list of URLs
            fail("--url-file " + name_ + ":" + std::to_string(line_number_ + 1) + ": line longer than " +
                 std::to_string(max_line_bytes) + " bytes");
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
