# report.html opened in headless Chromium: no console error, no network request, tables sort,
# figures render, at 1280 and 390 px (tests/report_html/). Skipped (77) without chromium.
if(DKV_EXPERIMENT_TARGET)
  add_test(NAME report.html_in_chromium
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/report_html/report_html.sh $<TARGET_FILE:dkv> ${PROJECT_SOURCE_DIR})
  set_tests_properties(report.html_in_chromium PROPERTIES LABELS "cpu" SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
