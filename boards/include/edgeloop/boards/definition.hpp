#pragma once

#include <edgeloop/boards/definition_error.hpp>
#include <edgeloop/boards/line_spec.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::boards {

/// A hardware definition with its imports loaded and every logical name resolved to a concrete line.
///
/// The format follows Azure Sphere's hardware definitions (see boards/README.md):
///
///     {"Metadata": {"Type": "Edgeloop Hardware Definition", "Version": 1, "Name": "sim"},
///      "Imports": [{"Path": "raspberrypi-header.json"}],
///      "Peripherals": [
///        {"Name": "BUTTON_A", "Type": "Gpio", "Mapping": "RPI_GPIO17", "ActiveLow": true, "Bias":
///        "pull-up"},
///        {"Name": "RPI_GPIO17", "Type": "Gpio", "Driver": "linux", "Chip": ["pinctrl-bcm2711"], "Line":
///        17}]}
///
/// A peripheral is either concrete (Driver, Line, and for linux Chip) or a Mapping to another name;
/// the attributes a Mapping sets (ActiveLow, Bias, DebounceMs, Direction, Key) override those of the line
/// it maps to.
struct definition {
    /// Metadata.Name, or the file name without directory and ".json".
    std::string name;
    /// The root file as given ("builtin:sim.json" for a built-in one).
    std::string file;
    /// Every file loaded, the root first.
    std::vector<std::string> files;
    /// Every name of the root and its imports, resolved; sorted by name.
    std::vector<line_spec> lines;

    /// The line called `name`, or nullptr.
    const line_spec* find(std::string_view line_name) const noexcept;
    /// Every line name, sorted.
    std::vector<std::string> names() const;
};

/// Reads a definition file: its content, or nullopt when there is no such file. An unreadable file may
/// throw definition_error.
using file_reader = std::function<std::optional<std::string>(const std::string& path)>;

/// Prefix of the paths of the definitions compiled into the library ("builtin:sim.json").
inline constexpr std::string_view builtin_prefix = "builtin:";

/// Loads `root` and its imports through `read` and resolves every name. Sans-io: the unit tests give an
/// in-memory reader. An import's Path is looked for relative to the importing file's directory and,
/// when it is a bare file name, among the built-in definitions (`builtin:<name>`); each file is loaded
/// once however often it is imported. Throws definition_error naming the file and the JSON path for:
/// unreadable or non-JSON files, a missing or wrong Metadata, a missing import, an import cycle, an
/// unknown driver or field, a duplicate name, a bad line number, a Mapping to an unknown name or in a
/// cycle, and a value of the wrong type.
definition resolve_definition(const std::string& root, const file_reader& read);

/// The definitions compiled into the library: name (sim, raspberrypi, ...) -> JSON text.
const std::vector<std::pair<std::string, std::string>>& builtin_definitions();

/// Reads files from the filesystem and "builtin:" paths from builtin_definitions().
file_reader default_file_reader();

/// `name_or_file`: a built-in name (sim, raspberrypi, raspberrypi-header, linux-example), or a path to
/// a .json file (anything with a '/' or ending in ".json"). Throws definition_error, listing the
/// built-in names for an unknown one.
definition load_definition(std::string_view name_or_file);

} // namespace edgeloop::boards
