// Acoustic adaptation of PocketSphinx's model to a site's voices, with SphinxTrain's tools.
//
// From recordings whose words are known (corrected transcripts of past dictations, or a separate
// synthesized set), Baum-Welch statistics (`bw`) are collected against the base model and turned
// into either MAP re-estimates of its Gaussians and mixture weights (`map_adapt`; needs about a
// hundred utterances or more, the larger gain) or one MLLR transform of its means (`mllr_solve`;
// works from a few utterances). The result is a complete acoustic model directory that
// PocketSphinxOptions::acoustic_model takes as it is.
//
// Example:
//   ASSIGN_OR_RETURN(AdaptReport r, AdaptAcousticModel(utterances, {.out = "site-am"}));
//
// Thread safety: AdaptAcousticModel may run concurrently for different `out` directories.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "speech/asr.h"

namespace medscribe::speech {

struct AdaptationUtterance {
  std::string id;          // unique, [A-Za-z0-9._-]+
  std::string audio_path;  // WAV, any rate and channel count
  std::string text;        // what was said, as written (punctuation marks the pauses)
};

struct AdaptOptions {
  std::string base_model = PocketSphinxOptions().acoustic_model;
  // Pronunciations of the transcripts' words; words it lacks are pronounced with espeak-ng.
  std::string dictionary = PocketSphinxOptions().dictionary;
  std::string method = "map";  // "map" or "mllr"
  std::string out;             // created: absent or empty unless `force` (then replaced)
  bool force = false;
  std::string sphinxtrain_dir = "/usr/lib/sphinxtrain";  // Debian sphinxtrain's bw, map_adapt...
};

struct AdaptReport {
  size_t utterances = 0;  // given
  size_t aligned = 0;     // used: the rest could not be aligned to their transcripts
  double audio_seconds = 0;
  std::vector<std::string> unaligned;   // ids
  std::vector<std::string> pronounced;  // words added to the dictionary with espeak-ng
};

// Writes the adapted model to options.out (mdef, feat.params, noisedict, means, variances,
// mixture_weights, transition_matrices, for MLLR also mllr_matrix, and adapt.json describing the
// run). InvalidArgument for bad options or unusable utterances, NotFound when SphinxTrain or the
// base model is missing (with the package to install), FailedPrecondition when no utterance
// could be aligned; nothing is left in `out` on error.
StatusOr<AdaptReport> AdaptAcousticModel(const std::vector<AdaptationUtterance>& utterances,
                                         const AdaptOptions& options);

// PocketSphinx's 8-bit quantized mixture weights (a model's `sendump`) as SphinxTrain's float
// `mixture_weights` file, each density normalized to sum to one. DataLoss for a malformed file.
StatusOr<std::string> SendumpToMixtureWeights(std::string_view sendump);

// The transcript of one utterance as `bw` aligns it: "<s> w w <sil> w </s>", lower-case words of
// TokenizeForLm, an optional-pause marker where the text has punctuation. Empty when no words.
std::string AlignmentTranscript(std::string_view text);

}  // namespace medscribe::speech
