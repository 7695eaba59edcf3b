#include "monitor/dataset_profile.h"

#include <torch/torch.h>

#include "model/json.h"
#include "monitor/features.h"
#include "train/data.h"

namespace medscribe::monitor {

StatusOr<Profile> ProfileDataset(const std::string& dir, const std::string& split,
                                 const Profile* reference) {
  ASSIGN_OR_RETURN(const train::SplitSamples samples, train::ReadSplit(dir, split));
  ProfileBuilder b(reference);
  for (const train::RawSample& s : samples.samples) {
    AddSampleFeatures(model::json::Dump(s.sample), b);
    if (s.image.defined() && s.image.numel() > 0) {
      const torch::Tensor px = s.image.to(torch::kFloat).contiguous();
      AddImageFeatures(px.data_ptr<float>(), static_cast<size_t>(px.numel()), b);
    }
    const model::json::Value* report = s.sample.Find("target_report");
    if (report && report->is_string()) AddReportFeatures(report->as_string(), b);
  }
  return b.Build();
}

}  // namespace medscribe::monitor
