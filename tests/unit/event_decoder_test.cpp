// linux_cdev::event_decoder: struct gpio_v2_line_event records to edge events, without I/O.
#include <edgeloop/boards/linux/event_decoder.hpp>

#include <boost/test/unit_test.hpp>

#include <linux/gpio.h>

#include <cstring>
#include <vector>

namespace gpio = edgeloop::gpio;
using edgeloop::boards::linux_cdev::event_decoder;

namespace {

std::vector<std::byte> record(std::uint32_t id, std::uint64_t ns, std::uint32_t offset,
                              std::uint32_t line_seqno) {
    gpio_v2_line_event e{};
    e.timestamp_ns = ns;
    e.id = id;
    e.offset = offset;
    e.seqno = line_seqno;
    e.line_seqno = line_seqno;
    std::vector<std::byte> bytes(sizeof e);
    std::memcpy(bytes.data(), &e, sizeof e);
    return bytes;
}

std::vector<std::byte> concat(std::initializer_list<std::vector<std::byte>> parts) {
    std::vector<std::byte> out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

gpio::edge_event::clock::time_point ns(std::uint64_t n) {
    return gpio::edge_event::clock::time_point(std::chrono::nanoseconds(n));
}

} // namespace

BOOST_AUTO_TEST_SUITE(linux_events)

BOOST_AUTO_TEST_CASE(records_decode_to_edges_timestamps_and_sequences) {
    event_decoder d;
    BOOST_TEST(event_decoder::record_size() == sizeof(gpio_v2_line_event));
    const auto bytes = concat({record(GPIO_V2_LINE_EVENT_RISING_EDGE, 1'000'000'123, 17, 1),
                               record(GPIO_V2_LINE_EVENT_FALLING_EDGE, 1'050'000'456, 17, 2)});
    const auto events = d.feed(bytes);
    BOOST_TEST_REQUIRE(events.size() == 2u);
    BOOST_TEST((events[0].edge == gpio::edge::rising));
    BOOST_TEST((events[0].timestamp == ns(1'000'000'123)));
    BOOST_TEST(events[0].line == 17u);
    BOOST_TEST(events[0].sequence == 1u);
    BOOST_TEST((events[1].edge == gpio::edge::falling));
    BOOST_TEST((events[1].timestamp == ns(1'050'000'456)));
    BOOST_TEST(events[1].sequence == 2u);
    BOOST_TEST(events[1].lost == 0u);
    BOOST_TEST(d.lost() == 0u);
}

BOOST_AUTO_TEST_CASE(a_record_split_across_reads_waits_for_its_rest) {
    event_decoder d;
    const auto bytes = record(GPIO_V2_LINE_EVENT_RISING_EDGE, 42, 3, 1);
    const std::size_t half = bytes.size() / 2;
    BOOST_TEST(d.feed(std::span(bytes).first(half)).empty());
    BOOST_TEST(d.pending_bytes() == half);
    const auto events = d.feed(std::span(bytes).subspan(half));
    BOOST_TEST_REQUIRE(events.size() == 1u);
    BOOST_TEST((events[0].timestamp == ns(42)));
    BOOST_TEST(d.pending_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(a_sequence_gap_is_reported_as_lost_events) {
    event_decoder d;
    d.feed(record(GPIO_V2_LINE_EVENT_RISING_EDGE, 1, 5, 7));
    const auto events = d.feed(concat({record(GPIO_V2_LINE_EVENT_FALLING_EDGE, 2, 5, 8),
                                       record(GPIO_V2_LINE_EVENT_RISING_EDGE, 3, 5, 12)}));
    BOOST_TEST_REQUIRE(events.size() == 2u);
    BOOST_TEST(events[0].lost == 0u);
    BOOST_TEST(events[1].lost == 3u);
    BOOST_TEST(d.lost() == 3u);
}

BOOST_AUTO_TEST_CASE(the_first_record_is_no_gap_whatever_its_number) {
    event_decoder d;
    const auto events = d.feed(record(GPIO_V2_LINE_EVENT_RISING_EDGE, 1, 5, 900));
    BOOST_TEST_REQUIRE(events.size() == 1u);
    BOOST_TEST(events[0].lost == 0u);
}

BOOST_AUTO_TEST_CASE(records_with_an_unknown_id_are_skipped_and_counted) {
    event_decoder d;
    const auto events =
        d.feed(concat({record(99, 1, 5, 1), record(GPIO_V2_LINE_EVENT_FALLING_EDGE, 2, 5, 2)}));
    BOOST_TEST_REQUIRE(events.size() == 1u);
    BOOST_TEST((events[0].edge == gpio::edge::falling));
    BOOST_TEST(d.unknown_records() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
