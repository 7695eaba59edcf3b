// Recording a finished dataset version in the warehouse.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"
#include "warehouse/warehouse.h"

namespace medscribe::ingest {

// Reads the dataset at `dir` (manifest, index, quarantine) and writes its rows; `created_at` is
// an ISO timestamp. Replaces the rows of an earlier recording of the same id.
Status RecordInWarehouse(const std::filesystem::path& dir, const std::string& created_at,
                         warehouse::Warehouse& w);

}  // namespace medscribe::ingest
