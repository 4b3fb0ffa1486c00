// Small hand-written SVG charts for report.html (heat map, line chart): text stays text, so the
// page is searchable and scales to any width; no cairo surface, no fonts to embed.
#pragma once

#include <string>
#include <vector>

namespace dkv::report {

// Cells coloured on a diverging scale symmetric about 0 (blue = positive = condition better,
// red = negative); NaN cells grey. values[row][col].
std::string svg_heat_map(const std::string& title, const std::vector<std::string>& rows,
                         const std::vector<std::string>& cols, const std::vector<std::vector<double>>& values);

struct Series {
  std::string name, colour;
  std::vector<double> x, y;  // NaN points are skipped
};
// One panel, every series drawn as a line with markers; y_zero adds a dashed line at 0.
std::string svg_line_chart(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                           const std::vector<Series>& series, bool y_zero = true);

// A colour of the matplotlib tab10 cycle.
std::string series_colour(size_t i);

// Escapes &, <, >, " and ' for text and attribute values.
std::string xml_escape(const std::string& s);

}  // namespace dkv::report
