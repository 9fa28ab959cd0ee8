#define BOOST_TEST_MODULE edgeloop unit tests
#include <boost/test/unit_test.hpp>
