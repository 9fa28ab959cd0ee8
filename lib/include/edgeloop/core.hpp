#pragma once

#include <edgeloop/core/log.hpp>
#include <edgeloop/core/reactor.hpp>
