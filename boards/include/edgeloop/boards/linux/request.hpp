#pragma once

#include <edgeloop/boards/line_spec.hpp>
#include <edgeloop/gpio/input.hpp>
#include <edgeloop/gpio/output.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace edgeloop::boards::linux_cdev {

/// An open GPIO character device (/dev/gpiochipN).
struct chip_handle {
    int fd = -1;
    std::string path;
    std::string label;
    std::uint32_t lines = 0;
};

/// Opens the first of `spec.chips` that exists (a path, or a chip label looked up among /dev/gpiochip*)
/// and checks that it is a GPIO chip with `spec.line`. Throws boost::system::system_error whose message
/// names the device: ENOENT (no such chip), EACCES (with the usual udev rule), ENOTTY (not a GPIO
/// character device), ENODEV (no chip with that label), EINVAL (line out of range).
chip_handle open_chip(const line_spec& spec);
/// Closes the chip's fd.
void close_chip(chip_handle& chip) noexcept;

/// Requests `spec`'s line as an input with edge detection on both edges, bias, active-low and the
/// kernel debounce attribute (debounced in user space instead when the kernel refuses it). Throws
/// boost::system::system_error naming the device (open_chip()'s errors, and EBUSY naming the consumer
/// that holds the line).
std::unique_ptr<gpio::input> open_input(boost::asio::any_io_executor ex, const line_spec& spec);

/// Requests `spec`'s line as an output, initially off (logical). Throws as open_input().
std::unique_ptr<gpio::output> open_output(const line_spec& spec);

/// What open_input() logs when the kernel refused the debounce attribute of `name`'s line `device` with
/// EINVAL and the line was requested without it, to be debounced in user space for `period`.
std::string kernel_debounce_refused_message(const std::string& name, const std::string& device,
                                            std::chrono::milliseconds period);

} // namespace edgeloop::boards::linux_cdev
