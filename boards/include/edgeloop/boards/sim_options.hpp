#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace edgeloop::boards {

/// Whether the sim driver uses the terminal: keyboard presses from stdin, LEDs drawn as a status line.
enum class terminal_mode {
    automatic, ///< keyboard when stdin is a terminal, status line when the display fd is one
    on,        ///< both, terminals or not (the status line then goes to a pipe or file as it is)
    off,       ///< neither: presses only from the FIFO and the schedule, LEDs only in the log
};

/// How the sim driver gets its presses and shows its LEDs.
struct sim_options {
    /// A FIFO to read presses from, one logical name per line ("BUTTON_A"). Created (mode 0600) when
    /// missing, and then removed again when the board closes. Empty: none.
    std::string fifo;
    /// Presses scheduled this long after the board was opened, one each.
    std::vector<std::chrono::milliseconds> press_after;
    /// The button the scheduled presses press.
    std::string press_button = "BUTTON_A";
    terminal_mode terminal = terminal_mode::automatic;
    /// Log every press and LED change at info level (-v) when the status line is not drawn.
    bool verbose = false;
    /// Where the status line is drawn.
    int display_fd = 2;
};

} // namespace edgeloop::boards
