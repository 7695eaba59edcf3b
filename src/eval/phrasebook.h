// Reports written from labels in the most common phrasing of a set of training reports.
//
// The phrasebook holds, for each set of labels an observation sentence asserts (ignoring No
// Finding), the sentence most often written for it. A report for a set of labels is the
// sentences whose label sets together cover it, largest first, so that the labeler reads the
// report back as that set. A class the training reports never phrase on their own is written
// with a plain built-in sentence ("Rib fracture"), so any label set can be written.
// It turns a classifier's labels (the record-only baseline) or the truth's labels (a perfect
// image reader) into reports scored exactly like a model's.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "eval/labeler.h"

namespace medscribe::eval {

class Phrasebook {
 public:
  // Learns from training reports (their FINDINGS and IMPRESSION sentences).
  explicit Phrasebook(const std::vector<std::string>& reports);
  // "FINDINGS: ..." asserting the positive classes of `labels` (No Finding: the most common
  // sentence asserting nothing).
  std::string Write(const Labels& labels) const;

 private:
  // Positive classes (1..13) of a sentence -> its most common text.
  std::map<std::set<int>, std::string> best_;
};

}  // namespace medscribe::eval
