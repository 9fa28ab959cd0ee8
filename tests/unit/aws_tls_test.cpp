#include <edgeloop/aws/tls.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace aws = edgeloop::aws;

BOOST_AUTO_TEST_SUITE(aws_tls)

BOOST_AUTO_TEST_CASE(alpn_only_on_443) {
    BOOST_TEST(aws::alpn_for_port(443) == (std::vector<std::string>{"x-amzn-http-ca"}),
               boost::test_tools::per_element());
    BOOST_TEST(aws::alpn_for_port(8443).empty());
    BOOST_TEST(aws::alpn_for_port(4443).empty());
}

BOOST_AUTO_TEST_CASE(options_carry_the_credentials_and_verify_fully) {
    const aws::credentials creds{.ca_file = "AmazonRootCA1.pem",
                                 .cert_file = "device.pem.crt",
                                 .key_file = "private.pem.key",
                                 .key_passphrase = "secret"};
    const auto o = aws::make_tls_options(creds, 8443);
    BOOST_TEST(o.ca_file == "AmazonRootCA1.pem");
    BOOST_TEST(o.cert_file == "device.pem.crt");
    BOOST_TEST(o.key_file == "private.pem.key");
    BOOST_TEST(o.key_passphrase == "secret");
    BOOST_TEST(o.alpn.empty());
    BOOST_TEST(!o.insecure);
    BOOST_TEST(o.verify_host);
    // SNI names the endpoint: the client sends the URL's host when sni_name is empty.
    BOOST_TEST(o.sni);
    BOOST_TEST(o.sni_name.empty());
}

BOOST_AUTO_TEST_CASE(port_443_offers_the_aws_alpn_protocol) {
    const auto o = aws::make_tls_options({}, 443);
    BOOST_TEST(o.alpn == (std::vector<std::string>{"x-amzn-http-ca"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sni_can_be_overridden_or_disabled) {
    auto o = aws::make_tls_options({.sni_name = "a1b2-ats.iot.eu-west-1.amazonaws.com"}, 8443);
    BOOST_TEST(o.sni);
    BOOST_TEST(o.sni_name == "a1b2-ats.iot.eu-west-1.amazonaws.com");
    o = aws::make_tls_options({.sni = false, .sni_name = "ignored"}, 8443);
    BOOST_TEST(!o.sni);
    BOOST_TEST(o.sni_name.empty());
}

BOOST_AUTO_TEST_SUITE_END()
