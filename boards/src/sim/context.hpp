#pragma once

// The sim driver: buttons pressed from the keyboard, a FIFO or a schedule; LEDs drawn on a status line
// or logged. One context per board, shared by its sim lines.

#include <edgeloop/boards/line_spec.hpp>
#include <edgeloop/boards/sim_options.hpp>
#include <edgeloop/gpio/input.hpp>
#include <edgeloop/gpio/output.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <termios.h>
#include <vector>

namespace edgeloop::boards::sim {

class sim_input;

class context : public std::enable_shared_from_this<context> {
public:
    context(boost::asio::any_io_executor ex, sim_options opts, std::vector<line_spec> lines);
    context(const context&) = delete;
    context& operator=(const context&) = delete;
    ~context();

    /// Opens the FIFO, takes the keyboard and arms the scheduled presses. Throws system_error for a
    /// FIFO that cannot be used.
    void start();
    /// Stops every source, restores the terminal, clears the status line. Idempotent.
    void stop();

    std::unique_ptr<gpio::input> make_input(const line_spec& spec);
    std::unique_ptr<gpio::output> make_output(const line_spec& spec);

    /// Presses may come at any time (keyboard or FIFO read).
    bool live() const noexcept { return !stopped_ && (keyboard_.is_open() || fifo_.is_open()); }
    std::size_t scheduled_pending() const noexcept { return scheduled_pending_; }

    /// Presses the button `name`; `origin` says where the press came from, for the log.
    void press(const std::string& name, const char* origin);

    // For the lines.
    void forget(const sim_input* in);
    void led_changed(const std::string& name, bool on);
    void led_closed(const std::string& name);

private:
    void open_fifo();
    void read_fifo();
    void open_keyboard();
    void read_keyboard();
    void schedule_presses();
    void redraw();
    void reserve_status_row(int rows);
    void release_status_row();
    void write_display(const std::string& s) const;
    std::string button_names() const;

    boost::asio::any_io_executor ex_;
    sim_options opts_;
    std::map<std::string, line_spec> lines_;
    std::map<char, std::string> keys_;
    std::map<std::string, sim_input*> inputs_;
    std::map<std::string, bool> leds_;
    boost::asio::posix::stream_descriptor fifo_;
    bool fifo_created_ = false;
    std::string fifo_pending_;
    std::array<char, 256> fifo_buf_{};
    boost::asio::posix::stream_descriptor keyboard_;
    std::optional<termios> saved_termios_;
    std::array<char, 64> keyboard_buf_{};
    std::list<boost::asio::steady_timer> timers_;
    std::size_t scheduled_pending_ = 0;
    bool draw_ = false;
    /// Rows of the terminal whose last row the status line has reserved; 0 when none is.
    int reserved_rows_ = 0;
    bool stopped_ = false;
};

} // namespace edgeloop::boards::sim
