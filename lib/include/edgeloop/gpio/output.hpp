#pragma once

#include <boost/system/error_code.hpp>

#include <string>

namespace edgeloop::gpio {

/// An output line (an LED). Values are logical: set(true) lights an active-low LED too.
/// Use an output from one thread (its board's executor).
class output {
public:
    output(const output&) = delete;
    output& operator=(const output&) = delete;
    virtual ~output();

    /// The logical name (LED1).
    const std::string& name() const noexcept { return name_; }
    /// The value last set successfully: true = on.
    bool get() const noexcept { return value_; }

    /// Drives the line; throws boost::system::system_error naming the line when the driver fails.
    void set(bool on);
    /// Drives the line; a driver failure is reported in `ec` and get() keeps the previous value.
    void set(bool on, boost::system::error_code& ec) noexcept;

protected:
    output(std::string name, bool initial);

    /// Drives the hardware (or its simulation).
    virtual void write(bool on, boost::system::error_code& ec) noexcept = 0;

private:
    std::string name_;
    bool value_ = false;
};

} // namespace edgeloop::gpio
