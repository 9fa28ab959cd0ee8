#pragma once

#include <edgeloop/core/errc.hpp>
#include <edgeloop/core/log.hpp>
#include <edgeloop/core/reactor.hpp>
