#include "ui/metatypes.h"

#include <mutex>

namespace ui {

void registerMetaTypes() {
  static std::once_flag once;
  std::call_once(once, [] {
    qRegisterMetaType<ui::ResultPtr>("ui::ResultPtr");
    qRegisterMetaType<core::Array>("core::Array");
    qRegisterMetaType<core::ModelInfo>("core::ModelInfo");
    qRegisterMetaType<core::Options>("core::Options");
    qRegisterMetaType<core::AskOptions>("core::AskOptions");
    qRegisterMetaType<core::DescribeOptions>("core::DescribeOptions");
    qRegisterMetaType<core::HeatmapRequest>("core::HeatmapRequest");
    qRegisterMetaType<core::CancelToken>("core::CancelToken");
    qRegisterMetaType<ui::AlignResultPtr>("ui::AlignResultPtr");
    qRegisterMetaType<ui::TextMatchPtr>("ui::TextMatchPtr");
    qRegisterMetaType<ui::AnswerHeatmapPtr>("ui::AnswerHeatmapPtr");
    qRegisterMetaType<ui::OptionalHeatmapRequest>("ui::OptionalHeatmapRequest");
  });
}

}  // namespace ui
