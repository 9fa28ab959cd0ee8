#include "context.hpp"

#include <edgeloop/core/log.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/system/system_error.hpp>

#include <cctype>
#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace edgeloop::boards::sim {

namespace net = boost::asio;
using boost::system::error_code;

namespace {

// VT100 sequences of the status line.
constexpr std::string_view save_cursor = "\x1b"
                                         "7";
constexpr std::string_view restore_cursor = "\x1b"
                                            "8";
constexpr std::string_view clear_line = "\x1b[2K";

std::string move_to_row(int row) {
    return "\x1b[" + std::to_string(row) + ";1H";
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
    throw boost::system::system_error(error_code(err, boost::system::system_category()), what);
}

} // namespace

/// A simulated button: each press is a rising edge followed at once by a falling one (a click).
class sim_input final : public gpio::input {
public:
    sim_input(net::any_io_executor ex, std::shared_ptr<context> ctx, const line_spec& spec)
        : gpio::input(std::move(ex), spec.name, false)
        , ctx_(std::move(ctx))
        , line_(spec.line) {}

    ~sim_input() override { ctx_->forget(this); }

    void press() {
        gpio::edge_event e;
        e.line = line_;
        e.timestamp = gpio::edge_event::clock::now();
        e.edge = gpio::edge::rising;
        e.sequence = ++sequence_;
        deliver(e);
        e.edge = gpio::edge::falling;
        e.sequence = ++sequence_;
        deliver(e);
    }

private:
    void close_source() override { ctx_->forget(this); }

    std::shared_ptr<context> ctx_;
    std::uint32_t line_;
    std::uint64_t sequence_ = 0;
};

/// A simulated LED: shown on the status line, or logged.
class sim_output final : public gpio::output {
public:
    sim_output(std::shared_ptr<context> ctx, const line_spec& spec)
        : gpio::output(spec.name, false)
        , ctx_(std::move(ctx)) {
        ctx_->led_changed(name(), false);
    }
    ~sim_output() override { ctx_->led_closed(name()); }

private:
    void write(bool on, error_code&) noexcept override {
        // Logging may throw bad_alloc; an LED that cannot be drawn is not worth terminating for.
        try {
            ctx_->led_changed(name(), on);
        } catch (...) {
        }
    }

    std::shared_ptr<context> ctx_;
};

context::context(net::any_io_executor ex, sim_options opts, std::vector<line_spec> lines)
    : ex_(std::move(ex))
    , opts_(std::move(opts))
    , fifo_(ex_)
    , keyboard_(ex_) {
    for (auto& l : lines) {
        if (!l.key.empty())
            keys_[static_cast<char>(std::tolower(static_cast<unsigned char>(l.key[0])))] = l.name;
        lines_.emplace(l.name, std::move(l));
    }
    draw_ = opts_.terminal == terminal_mode::on ||
            (opts_.terminal == terminal_mode::automatic && ::isatty(opts_.display_fd) == 1);
}

context::~context() {
    stop();
}

void context::start() {
    if (!opts_.fifo.empty())
        open_fifo();
    if (opts_.terminal == terminal_mode::on ||
        (opts_.terminal == terminal_mode::automatic && ::isatty(STDIN_FILENO) == 1))
        open_keyboard();
    schedule_presses();
    redraw();
}

void context::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    error_code ignored;
    for (auto& t : timers_)
        t.cancel();
    scheduled_pending_ = 0;
    if (fifo_.is_open()) {
        fifo_.close(ignored);
        if (fifo_created_)
            ::unlink(opts_.fifo.c_str());
    }
    if (keyboard_.is_open()) {
        if (saved_termios_)
            ::tcsetattr(keyboard_.native_handle(), TCSANOW, &*saved_termios_);
        keyboard_.close(ignored);
    }
    if (draw_ && reserved_rows_ != 0)
        release_status_row();
    else if (draw_)
        write_display("\r" + std::string(clear_line));
}

std::unique_ptr<gpio::input> context::make_input(const line_spec& spec) {
    auto in = std::make_unique<sim_input>(ex_, shared_from_this(), spec);
    inputs_[spec.name] = in.get();
    return in;
}

std::unique_ptr<gpio::output> context::make_output(const line_spec& spec) {
    return std::make_unique<sim_output>(shared_from_this(), spec);
}

void context::forget(const sim_input* in) {
    for (auto it = inputs_.begin(); it != inputs_.end(); ++it)
        if (it->second == in) {
            inputs_.erase(it);
            return;
        }
}

void context::press(const std::string& name, const char* origin) {
    const auto line = lines_.find(name);
    if (line == lines_.end() || line->second.direction == line_direction::output) {
        core::log::write(core::log_level::warn, "sim: " + std::string(origin) + ": no button '" + name +
                                                    "' (buttons: " + button_names() + ")");
        return;
    }
    if (opts_.verbose)
        core::log::write(core::log_level::info, "sim: " + name + " pressed (" + origin + ")");
    const auto in = inputs_.find(name);
    if (in == inputs_.end()) {
        core::log::write(core::log_level::debug, "sim: " + name + " pressed, but nothing listens to it");
        return;
    }
    in->second->press();
}

std::string context::button_names() const {
    std::string out;
    for (const auto& [name, spec] : lines_)
        if (spec.direction != line_direction::output)
            out += (out.empty() ? "" : ", ") + name;
    return out;
}

void context::led_changed(const std::string& name, bool on) {
    if (stopped_)
        return;
    leds_[name] = on;
    if (draw_)
        redraw();
    else if (opts_.verbose)
        core::log::write(core::log_level::info, "sim: " + name + (on ? " on" : " off"));
}

void context::led_closed(const std::string& name) {
    leds_.erase(name);
}

void context::redraw() {
    if (!draw_ || stopped_)
        return;
    std::string status = "[sim]";
    for (const auto& [name, on] : leds_)
        status += " " + name + (on ? " (*)" : " ( )");
    if (keyboard_.is_open()) {
        status += "   keys:";
        for (const auto& [key, name] : keys_)
            status += std::string(" ") + key + "=" + name;
    }
    winsize ws{};
    const int rows = ::ioctl(opts_.display_fd, TIOCGWINSZ, &ws) == 0 ? ws.ws_row : 0;
    if (rows < 3) {
        // Not a terminal we can lay out: a line rewritten in place, back at column 0 afterwards.
        write_display("\r" + std::string(clear_line) + status + "\r");
        return;
    }
    if (rows != reserved_rows_)
        reserve_status_row(rows);
    // Save the cursor, draw on the reserved last row, restore: the application's output is not touched.
    write_display(std::string(save_cursor) + move_to_row(rows) + std::string(clear_line) + status +
                  std::string(restore_cursor));
}

void context::reserve_status_row(int rows) {
    // As apt's progress bar does: a scroll region without the last row keeps the application's output
    // (which scrolls above) and the status line (which stays below) from overwriting each other.
    // The newline first makes room, so that shrinking the region does not hide the current line.
    // Appends, not "\n" + std::string(...): GCC 12 -O3 warns of an impossible overlap (bug 105651).
    std::string text("\n");
    text.append(save_cursor).append("\x1b[1;").append(std::to_string(rows - 1)).append("r");
    text.append(restore_cursor).append("\x1b[1A");
    write_display(text);
    reserved_rows_ = rows;
}

void context::release_status_row() {
    if (reserved_rows_ == 0)
        return;
    // Whole screen scrolls again; the status line is cleared.
    write_display(std::string(save_cursor) + "\x1b[r" + move_to_row(reserved_rows_) +
                  std::string(clear_line) + std::string(restore_cursor));
    reserved_rows_ = 0;
}

void context::write_display(const std::string& s) const {
    // A terminal takes a short line at once; a blocked or broken display only loses a status line.
    [[maybe_unused]] const auto n = ::write(opts_.display_fd, s.data(), s.size());
}

void context::open_fifo() {
    const auto& path = opts_.fifo;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (!S_ISFIFO(st.st_mode))
            throw_errno(EINVAL, "sim FIFO " + path + " exists and is not a FIFO");
    } else if (errno == ENOENT) {
        if (::mkfifo(path.c_str(), 0600) != 0)
            throw_errno(errno, "cannot create the sim FIFO " + path);
        fifo_created_ = true;
    } else {
        throw_errno(errno, "cannot use the sim FIFO " + path);
    }
    // Read and write: holding a write end ourselves means the FIFO never reports end-of-file when a
    // writer closes, so writers come and go (echo BUTTON_A > fifo) without the reader spinning on EOF.
    const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        throw_errno(errno, "cannot open the sim FIFO " + path);
    fifo_.assign(fd);
    core::log::write(core::log_level::info,
                     "sim: presses from " + path + " (one name per line: " + button_names() + ")");
    read_fifo();
}

void context::read_fifo() {
    fifo_.async_read_some(net::buffer(fifo_buf_), [self = shared_from_this()](const error_code& ec,
                                                                              std::size_t n) {
        if (self->stopped_ || ec == net::error::operation_aborted)
            return;
        if (ec) {
            core::log::write(core::log_level::warn, "sim: reading " + self->opts_.fifo + ": " + ec.message());
            return;
        }
        self->fifo_pending_.append(self->fifo_buf_.data(), n);
        std::size_t start = 0;
        for (std::size_t nl; (nl = self->fifo_pending_.find('\n', start)) != std::string::npos;
             start = nl + 1) {
            auto name = self->fifo_pending_.substr(start, nl - start);
            while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back())))
                name.pop_back();
            std::size_t lead = 0;
            while (lead < name.size() && std::isspace(static_cast<unsigned char>(name[lead])))
                ++lead;
            name.erase(0, lead);
            if (!name.empty())
                self->press(name, "FIFO");
            if (self->stopped_)
                return;
        }
        self->fifo_pending_.erase(0, start);
        if (self->fifo_pending_.size() > 4096) // not a name: somebody is writing something else
            self->fifo_pending_.clear();
        self->read_fifo();
    });
}

void context::open_keyboard() {
    // A descriptor of our own for the terminal: making it non-blocking (as Asio does) must not change
    // the stdin that the shell gets back.
    const char* tty = ::ttyname(STDIN_FILENO);
    const int fd = tty ? ::open(tty, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC) : -1;
    if (fd < 0) {
        core::log::write(core::log_level::warn, "sim: no keyboard: cannot open the terminal of stdin");
        return;
    }
    termios t{};
    if (::tcgetattr(fd, &t) == 0) {
        saved_termios_ = t;
        // Keys arrive one by one without Enter and are not echoed; ISIG stays on, so Ctrl-C still stops.
        t.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        ::tcsetattr(fd, TCSANOW, &t);
    }
    keyboard_.assign(fd);
    read_keyboard();
}

void context::read_keyboard() {
    keyboard_.async_read_some(
        net::buffer(keyboard_buf_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
            if (self->stopped_ || ec == net::error::operation_aborted)
                return;
            if (ec) {
                core::log::write(core::log_level::warn, "sim: keyboard: " + ec.message());
                return;
            }
            for (std::size_t i = 0; i < n && !self->stopped_; ++i) {
                const char key =
                    static_cast<char>(std::tolower(static_cast<unsigned char>(self->keyboard_buf_[i])));
                if (auto it = self->keys_.find(key); it != self->keys_.end())
                    self->press(it->second, "keyboard");
            }
            if (!self->stopped_)
                self->read_keyboard();
        });
}

void context::schedule_presses() {
    for (const auto delay : opts_.press_after) {
        auto& timer = timers_.emplace_back(ex_, delay);
        ++scheduled_pending_;
        timer.async_wait([self = shared_from_this()](const error_code& ec) {
            if (ec || self->stopped_)
                return;
            // Counted before the press is delivered: whoever handles it already sees what remains.
            --self->scheduled_pending_;
            self->press(self->opts_.press_button, "schedule");
        });
    }
}

} // namespace edgeloop::boards::sim
