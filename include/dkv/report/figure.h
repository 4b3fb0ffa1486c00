// The study's 4-panel figure drawn with cairo: (1) horizontal bars of mean NLL for every
// condition with SEM error bars, group colours and a dashed baseline line; (2) the critical
// comparison bars; (3) histogram of the figure condition's deltas with zero and mean lines;
// (4) similarity vs delta scatter with the least-squares line and Pearson r, p in the title.
#pragma once

#include <string>

#include "dkv/stats/reduce.h"

namespace dkv::report {

struct FigureOptions {
  double width_in = 16, height_in = 12;  // the notebook's figsize
  double dpi = 150;                      // PNG resolution; the SVG is in points (1/72 in)
};

// PNG of width_in * dpi x height_in * dpi pixels (2400 x 1800 by default).
// Throws dkv::IoError naming the path when cairo cannot write it.
void write_figure_png(const stats::Reduction& r, const std::string& path, const FigureOptions& opt = {});
void write_figure_svg(const stats::Reduction& r, const std::string& path, const FigureOptions& opt = {});

// Fill colour of a condition: group by its id's letter (A blue, B green, C orange, D purple,
// E brown, others grey), with the study's red for "broken" (uncorrected) conditions.
std::string condition_colour(const std::string& id, const std::string& name);

}  // namespace dkv::report
