#define BOOST_TEST_MODULE edgeloop integration tests
#include <boost/test/unit_test.hpp>
