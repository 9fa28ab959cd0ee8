#pragma once

#include <stdexcept>
#include <string>

namespace edgeloop::boards {

/// A hardware definition that cannot be used. what() is "<file>: <json path>: <reason>", e.g.
/// "boards/my.json: $.Peripherals[2].Line: bad line number -1 (expected an integer 0..65535)".
class definition_error : public std::runtime_error {
public:
    definition_error(std::string file, std::string json_path, const std::string& reason)
        : std::runtime_error(file + ": " + (json_path.empty() ? "" : json_path + ": ") + reason)
        , file_(std::move(file))
        , json_path_(std::move(json_path)) {}

    /// The definition file at fault (built-in definitions are "builtin:<name>.json").
    const std::string& file() const noexcept { return file_; }
    /// Where in that file: "$", "$.Imports[0].Path", "$.Peripherals[3].Mapping"; empty when the file
    /// itself is the fault (cannot be read, is not JSON).
    const std::string& json_path() const noexcept { return json_path_; }

private:
    std::string file_;
    std::string json_path_;
};

} // namespace edgeloop::boards
