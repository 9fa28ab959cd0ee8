#define BOOST_TEST_MODULE edgeloop thread tests
#include <boost/test/unit_test.hpp>
