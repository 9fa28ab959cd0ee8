// A preload library that makes a child process's wall clock say another time, for the clock-sanity
// tests (tests/integration/device_identity_test.cpp, suite identity_expiry).
//
// Why not libfaketime: it also rewrites timerfd_settime(), and turns Asio's "a timer is already due"
// absolute timeout ({0 s, 1 ns} on CLOCK_MONOTONIC with TFD_TIMER_ABSTIME) into a time 26 years
// ahead, so the child's loop stops waking up for timers (seen as aws_post hanging after "retrying in
// 0 ms"). This library shifts only the wall clock: clock_gettime(CLOCK_REALTIME*), gettimeofday() and
// time(); monotonic clocks and timers are untouched. The seam is LD_PRELOAD with
// EDGELOOP_FAKE_REALTIME=<seconds since the epoch>: the child's wall clock starts there and runs on.
#include <cstdlib>
#include <ctime>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

namespace {

long long offset_seconds = 0; // fake minus real, set before main()

int real_clock_gettime(clockid_t id, timespec* ts) {
    return static_cast<int>(::syscall(SYS_clock_gettime, id, ts));
}

__attribute__((constructor)) void init() {
    const char* target = std::getenv("EDGELOOP_FAKE_REALTIME");
    if (target == nullptr) {
        return;
    }
    timespec now{};
    real_clock_gettime(CLOCK_REALTIME, &now);
    offset_seconds = std::strtoll(target, nullptr, 10) - static_cast<long long>(now.tv_sec);
}

bool is_wall_clock(clockid_t id) {
    return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI;
}

} // namespace

extern "C" {

int clock_gettime(clockid_t id, timespec* ts) {
    const int r = real_clock_gettime(id, ts);
    if (r == 0 && is_wall_clock(id)) {
        ts->tv_sec += static_cast<time_t>(offset_seconds);
    }
    return r;
}

int gettimeofday(timeval* tv, void* /*tz*/) {
    timespec ts{};
    const int r = clock_gettime(CLOCK_REALTIME, &ts);
    if (r == 0) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = static_cast<suseconds_t>(ts.tv_nsec / 1000);
    }
    return r;
}

time_t time(time_t* out) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out != nullptr) {
        *out = ts.tv_sec;
    }
    return ts.tv_sec;
}

} // extern "C"
