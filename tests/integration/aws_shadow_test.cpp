// Device Shadow requests built by the aws module, sent by http::client to the devserver's shadow service.
#include <edgeloop/aws/shadow_request.hpp>

#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/shadow_document.hpp>
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fetch.hpp>

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

namespace aws = edgeloop::aws;
namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;

namespace {

struct shadow_fixture {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor()};
    http::client client{ioc.get_executor(), tls::context({.ca_file = server.ca_file()})};

    aws::shadow_request at(std::string thing, std::string name = {}) const {
        return {.endpoint = "127.0.0.1",
                .port = server.port(),
                .thing = std::move(thing),
                .name = std::move(name)};
    }

    aws::shadow_document send(boost::system::result<http::request> req) {
        BOOST_REQUIRE_MESSAGE(req, "refused: " << req.error().message());
        const auto out = fetch(ioc, client, std::move(*req));
        BOOST_REQUIRE_MESSAGE(!out.ec, http::describe(out.ec, out.info));
        return aws::parse_shadow_response(out.info.status, out.body);
    }

    aws::shadow_document update(const aws::shadow_request& r, std::string doc,
                                std::optional<std::uint64_t> v = {}) {
        return send(aws::make_shadow_update_request(r, doc, v));
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(aws_shadow_devserver, shadow_fixture)

BOOST_AUTO_TEST_CASE(update_get_and_delta_of_the_classic_shadow) {
    auto r = update(at("gw-1"), R"({"state":{"desired":{"led":"on","cfg":{"rate":5,"mode":"a"}}}})");
    BOOST_TEST(!r.error, r.error.message());
    BOOST_TEST(*r.version == 1u);
    r = update(at("gw-1"), R"({"state":{"reported":{"led":"off","cfg":{"rate":5,"mode":"b"}}}})");
    BOOST_TEST(*r.version == 2u);
    const auto d = send(aws::make_shadow_get_request(at("gw-1")));
    BOOST_TEST(!d.error);
    BOOST_TEST(*d.version == 2u);
    BOOST_TEST(boost::json::serialize(d.delta) == R"({"led":"on","cfg":{"mode":"a"}})");
    BOOST_TEST(d.metadata.at("reported").at("cfg").at("mode").at("timestamp").is_int64());
    // Reported catches up, a null removes a desired key: no delta left.
    r = update(at("gw-1"),
               R"({"state":{"reported":{"led":"on","cfg":{"mode":"a"}},"desired":{"cfg":null}}})");
    const auto after = send(aws::make_shadow_get_request(at("gw-1")));
    BOOST_TEST(after.delta.is_null(), boost::json::serialize(after.delta));
    BOOST_TEST(boost::json::serialize(after.desired) == R"({"led":"on"})");
}

BOOST_AUTO_TEST_CASE(two_updates_with_the_same_version_end_in_a_version_conflict) {
    BOOST_TEST(!update(at("gw-2"), R"({"state":{"reported":{"t":1}}})").error);
    const auto current = *send(aws::make_shadow_get_request(at("gw-2"))).version;
    const auto first = update(at("gw-2"), R"({"state":{"reported":{"t":2}}})", current);
    BOOST_TEST(!first.error, first.error.message());
    BOOST_TEST(*first.version == current + 1);
    const auto second = update(at("gw-2"), R"({"state":{"reported":{"t":3}}})", current);
    BOOST_TEST(second.status == 409u);
    BOOST_TEST(second.error == make_error_code(aws::error::version_conflict), second.error.message());
    BOOST_TEST(second.message == "Version conflict");
    const auto now = send(aws::make_shadow_get_request(at("gw-2")));
    BOOST_TEST(boost::json::serialize(now.reported) == R"({"t":2})"); // the losing update changed nothing
}

BOOST_AUTO_TEST_CASE(named_shadows_are_separate_listed_and_deleted) {
    BOOST_TEST(!update(at("gw-3", "config"), R"({"state":{"desired":{"a":1}}})").error);
    BOOST_TEST(!update(at("gw-3", "$net"), R"({"state":{"desired":{"b":2}}})").error);
    BOOST_TEST(!update(at("gw-3"), R"({"state":{"desired":{"c":3}}})").error);
    BOOST_TEST(boost::json::serialize(send(aws::make_shadow_get_request(at("gw-3", "config"))).desired) ==
               R"({"a":1})");
    auto list_out = fetch(ioc, client, *aws::make_list_named_shadows_request(at("gw-3"), {}, 1u));
    auto page = aws::parse_named_shadow_list(list_out.info.status, list_out.body);
    BOOST_TEST(!page.error);
    BOOST_TEST(page.names == std::vector<std::string>{"$net"});
    BOOST_TEST(!page.next_token.empty());
    list_out = fetch(ioc, client, *aws::make_list_named_shadows_request(at("gw-3"), page.next_token, 1u));
    page = aws::parse_named_shadow_list(list_out.info.status, list_out.body);
    BOOST_TEST(page.names == std::vector<std::string>{"config"});
    BOOST_TEST(page.next_token.empty());
    const auto deleted = send(aws::make_shadow_delete_request(at("gw-3", "config")));
    BOOST_TEST(!deleted.error);
    BOOST_TEST(*deleted.version == 1u);
    const auto gone = send(aws::make_shadow_get_request(at("gw-3", "config")));
    BOOST_TEST(gone.error == make_error_code(aws::error::not_found));
    BOOST_TEST(send(aws::make_shadow_delete_request(at("gw-3", "config"))).error ==
               make_error_code(aws::error::not_found));
    BOOST_TEST(!send(aws::make_shadow_get_request(at("gw-3"))).error); // the classic one is untouched
}

BOOST_AUTO_TEST_CASE(the_service_refuses_bad_documents) {
    http::request bad;
    bad.method = "POST";
    bad.url = server.url("/things/gw-4/shadow");
    bad.body = R"({"desired":{}})";
    auto out = fetch(ioc, client, bad);
    BOOST_TEST(aws::parse_shadow_response(out.info.status, out.body).error ==
               make_error_code(aws::error::invalid_request));
    bad.body = "{not json";
    out = fetch(ioc, client, bad);
    BOOST_TEST(out.info.status == 400u);
}

BOOST_AUTO_TEST_SUITE_END()
