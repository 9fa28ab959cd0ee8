#pragma once

#include <edgeloop/boards/sim_options.hpp>

#include <boost/program_options/options_description.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace edgeloop::boards {

/// The board options of an application's command line (see add_options()).
struct cli_options {
    std::string board = "sim";                    ///< --board NAME|FILE
    std::string button = "BUTTON_A";              ///< --button NAME
    std::string led = "LED1";                     ///< --led NAME
    std::string sim_fifo;                         ///< --sim-fifo PATH
    std::vector<std::int64_t> sim_press_after_ms; ///< --sim-press-after MS (repeatable)

    /// The sim driver options these ask for: the FIFO, the scheduled presses (pressing `button`) and
    /// `verbose` (log LED changes and presses; pass true for -v).
    sim_options sim(bool verbose = false) const;
};

/// Adds --board, --button, --led, --sim-fifo and --sim-press-after to `desc`, storing into `out`
/// (po::notify() fills it; a negative or absurd --sim-press-after is a po::validation_error).
void add_options(boost::program_options::options_description& desc, cli_options& out);

} // namespace edgeloop::boards
