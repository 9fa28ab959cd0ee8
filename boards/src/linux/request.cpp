#include <edgeloop/boards/linux/line_input.hpp>
#include <edgeloop/boards/linux/line_output.hpp>
#include <edgeloop/boards/linux/request.hpp>
#include <edgeloop/core/log.hpp>

#include <boost/system/system_error.hpp>

#include <linux/gpio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/ioctl.h>
#include <unistd.h>

namespace edgeloop::boards::linux_cdev {

namespace {

/// The kernel's ENOTSUPP (not in userspace headers): a chip that cannot do the requested bias.
constexpr int kernel_enotsupp = 524;

constexpr std::string_view udev_rule = R"(SUBSYSTEM=="gpio", GROUP="gpio", MODE="0660")";

[[noreturn]] void fail(int err, const std::string& what) {
    throw boost::system::system_error(boost::system::error_code(err, boost::system::system_category()), what);
}

std::string chip_name(const chip_handle& chip) {
    return chip.path + (chip.label.empty() ? "" : " [" + chip.label + "]");
}

std::string device_name(const chip_handle& chip, std::uint32_t line) {
    return chip_name(chip) + " line " + std::to_string(line);
}

/// Why opening a chip failed, in words that say what to do.
[[noreturn]] void fail_open(const line_spec& spec, const std::string& path, int err) {
    switch (err) {
    case ENOENT:
        fail(err, spec.name + ": no GPIO chip " + path);
    case EACCES:
    case EPERM:
        fail(err, spec.name + ": permission denied opening " + path +
                      ": run as a member of group gpio with the udev rule " + std::string(udev_rule) +
                      " (e.g. in /etc/udev/rules.d/60-gpio.rules)");
    default:
        fail(err, spec.name + ": cannot open GPIO chip " + path);
    }
}

/// Opens `path` and asks it for its chip info; false (errno set) when it is missing.
bool try_open(const line_spec& spec, const std::string& path, chip_handle& out, bool missing_ok) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT && missing_ok)
            return false;
        fail_open(spec, path, err);
    }
    gpiochip_info info{};
    if (::ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &info) != 0) {
        const int err = errno;
        ::close(fd);
        fail(err,
             spec.name + ": " + path + " is not a GPIO character device (GPIO_GET_CHIPINFO_IOCTL refused)");
    }
    out.fd = fd;
    out.path = path;
    out.label.assign(info.label, strnlen(info.label, sizeof info.label));
    out.lines = info.lines;
    return true;
}

std::vector<std::string> gpio_chip_paths() {
    std::vector<std::string> paths;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev", ec)) {
        const auto name = entry.path().filename().string();
        if (name.rfind("gpiochip", 0) == 0)
            paths.push_back(entry.path().string());
    }
    std::sort(paths.begin(), paths.end());
    return paths;
}

/// Looks for the chip labelled `label` among /dev/gpiochip*; chips we cannot open are listed in `seen`.
bool find_by_label(const line_spec& spec, const std::string& label, chip_handle& out,
                   std::vector<std::string>& seen) {
    for (const auto& path : gpio_chip_paths()) {
        const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            const int err = errno;
            seen.push_back(path + " (" + std::strerror(err) + ")");
            if (err == EACCES || err == EPERM)
                fail_open(spec, path, err);
            continue;
        }
        gpiochip_info info{};
        const bool ok = ::ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &info) == 0;
        const std::string found(info.label, strnlen(info.label, sizeof info.label));
        if (ok && found == label) {
            out.fd = fd;
            out.path = path;
            out.label = found;
            out.lines = info.lines;
            return true;
        }
        ::close(fd);
        seen.push_back(path + " [" + (ok ? found : "?") + "]");
    }
    return false;
}

std::string consumer_label(const line_spec& spec) {
    // The kernel shows this in gpioinfo and in our own EBUSY messages: say who holds the line.
    std::string c = "edgeloop " + spec.name;
    c.resize(std::min<std::size_t>(c.size(), GPIO_MAX_NAME_SIZE - 1));
    return c;
}

std::uint64_t bias_flags(line_bias b) {
    switch (b) {
    case line_bias::as_is:
        return 0;
    case line_bias::disabled:
        return GPIO_V2_LINE_FLAG_BIAS_DISABLED;
    case line_bias::pull_up:
        return GPIO_V2_LINE_FLAG_BIAS_PULL_UP;
    case line_bias::pull_down:
        return GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
    }
    return 0;
}

/// Makes the line request; on failure throws an error that says which line of which chip and why.
unique_fd request_line(const line_spec& spec, const chip_handle& chip, gpio_v2_line_request& req) {
    const std::string consumer = consumer_label(spec);
    std::memcpy(req.consumer, consumer.c_str(), consumer.size() + 1);
    req.offsets[0] = spec.line;
    req.num_lines = 1;
    if (::ioctl(chip.fd, GPIO_V2_GET_LINE_IOCTL, &req) == 0)
        return unique_fd(req.fd);
    const int err = errno;
    const std::string device = device_name(chip, spec.line);
    switch (err) {
    case EBUSY: {
        gpio_v2_line_info info{};
        info.offset = spec.line;
        std::string holder = "another consumer";
        if (::ioctl(chip.fd, GPIO_V2_GET_LINEINFO_IOCTL, &info) == 0 && info.consumer[0] != '\0')
            holder = "'" + std::string(info.consumer, strnlen(info.consumer, sizeof info.consumer)) + "'";
        fail(err, spec.name + ": " + device + " is busy: in use by " + holder);
    }
    case EACCES:
    case EPERM:
        fail(err, spec.name + ": permission denied requesting " + device +
                      " (udev rule: " + std::string(udev_rule) + ")");
    case kernel_enotsupp:
        fail(err, spec.name + ": " + device + " does not support bias " + to_string(spec.bias) +
                      " (or another requested setting)");
    default:
        fail(err, spec.name + ": cannot request " + device);
    }
}

struct chip_guard {
    chip_handle& chip;
    ~chip_guard() { close_chip(chip); }
};

} // namespace

chip_handle open_chip(const line_spec& spec) {
    if (spec.chips.empty())
        fail(EINVAL, spec.name + ": no Chip in the definition (" + spec.source + ")");
    chip_handle chip;
    std::vector<std::string> tried;
    std::vector<std::string> seen;
    for (std::size_t i = 0; i < spec.chips.size(); ++i) {
        const auto& c = spec.chips[i];
        const bool last = i + 1 == spec.chips.size();
        if (c.find('/') != std::string::npos) {
            // A single path is reported as itself (ENOENT names it); among alternatives, go on.
            if (try_open(spec, c, chip, !last || !tried.empty()))
                break;
            tried.push_back(c);
        } else {
            if (find_by_label(spec, c, chip, seen))
                break;
            tried.push_back("label '" + c + "'");
        }
    }
    if (chip.fd < 0) {
        std::string msg = spec.name + ": no GPIO chip found: tried ";
        for (std::size_t i = 0; i < tried.size(); ++i)
            msg += (i ? ", " : "") + tried[i];
        std::sort(seen.begin(), seen.end());
        seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
        msg += seen.empty() ? "; no /dev/gpiochip* on this machine" : "; chips here: ";
        for (std::size_t i = 0; i < seen.size(); ++i)
            msg += (i ? ", " : "") + seen[i];
        fail(ENODEV, msg);
    }
    if (spec.line >= chip.lines) {
        const auto name = chip_name(chip);
        const auto lines = chip.lines;
        close_chip(chip);
        fail(EINVAL, spec.name + ": line " + std::to_string(spec.line) + " is out of range: " + name +
                         " has " + std::to_string(lines) + " lines");
    }
    return chip;
}

void close_chip(chip_handle& chip) noexcept {
    if (chip.fd >= 0)
        ::close(chip.fd);
    chip.fd = -1;
}

std::unique_ptr<gpio::input> open_input(boost::asio::any_io_executor ex, const line_spec& spec) {
    chip_handle chip = open_chip(spec);
    chip_guard guard{chip};
    gpio_v2_line_request req{};
    req.config.flags = GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING |
                       GPIO_V2_LINE_FLAG_EDGE_FALLING | (spec.active_low ? GPIO_V2_LINE_FLAG_ACTIVE_LOW : 0) |
                       bias_flags(spec.bias);
    const auto debounce_us = static_cast<std::uint32_t>(spec.debounce.count() * 1000);
    if (debounce_us > 0) {
        req.config.num_attrs = 1;
        req.config.attrs[0].mask = 1;
        req.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
        req.config.attrs[0].attr.debounce_period_us = debounce_us;
    }
    bool software_debounce = false;
    // Held in a unique_fd from the ioctl on: whatever throws before the line_input owns it (a failed
    // allocation) closes it.
    unique_fd fd;
    try {
        fd = request_line(spec, chip, req);
    } catch (const boost::system::system_error& e) {
        if (debounce_us == 0 || e.code().value() != EINVAL)
            throw;
        // The chip's driver refused the debounce period: ask without, and debounce here instead.
        gpio_v2_line_request plain{};
        plain.config.flags = req.config.flags;
        fd = request_line(spec, chip, plain);
        software_debounce = true;
        core::log::write(core::log_level::info, kernel_debounce_refused_message(
                                                    spec.name, device_name(chip, spec.line), spec.debounce));
    }
    line_input_config config;
    config.name = spec.name;
    config.device = device_name(chip, spec.line);
    gpio_v2_line_values values{};
    values.mask = 1;
    config.initially_active =
        ::ioctl(fd.get(), GPIO_V2_LINE_GET_VALUES_IOCTL, &values) == 0 && (values.bits & 1) != 0;
    if (software_debounce)
        config.software_debounce = spec.debounce;
    return std::make_unique<line_input>(std::move(ex), std::move(fd), std::move(config));
}

std::unique_ptr<gpio::output> open_output(const line_spec& spec) {
    chip_handle chip = open_chip(spec);
    chip_guard guard{chip};
    gpio_v2_line_request req{};
    req.config.flags = GPIO_V2_LINE_FLAG_OUTPUT | (spec.active_low ? GPIO_V2_LINE_FLAG_ACTIVE_LOW : 0) |
                       bias_flags(spec.bias);
    // Logical off from the first instant: an active-low LED must not flash while the line is set up.
    req.config.num_attrs = 1;
    req.config.attrs[0].mask = 1;
    req.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
    req.config.attrs[0].attr.values = 0;
    unique_fd fd = request_line(spec, chip, req);
    auto out = std::make_unique<line_output>(fd.get(), spec.name, device_name(chip, spec.line), false);
    fd.release(); // the line_output closes it now
    return out;
}

std::string kernel_debounce_refused_message(const std::string& name, const std::string& device,
                                            std::chrono::milliseconds period) {
    // gpiolib (drivers/gpio/gpiolib-cdev.c, debounce_setup) asks the chip's driver to debounce in
    // hardware and falls back to debouncing in software itself only when the driver answers ENOTSUPP
    // (no debounce at all); any other refusal, typically EINVAL for a period the hardware cannot do,
    // fails the whole request.
    const std::string ms = std::to_string(period.count()) + " ms";
    return name + ": " + device + ": the kernel refused a debounce period of " + ms +
           " (EINVAL): the chip's GPIO driver rejected it (the kernel debounces in software itself only "
           "for drivers without any hardware debounce); line requested without it, debounced by edgeloop "
           "in user space instead (" +
           ms + ")";
}

} // namespace edgeloop::boards::linux_cdev
