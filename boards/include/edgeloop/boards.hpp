#pragma once

#include <edgeloop/boards/board.hpp>
#include <edgeloop/boards/cli_options.hpp>
#include <edgeloop/boards/definition.hpp>
#include <edgeloop/boards/definition_error.hpp>
#include <edgeloop/boards/line_spec.hpp>
#include <edgeloop/boards/sim_options.hpp>
