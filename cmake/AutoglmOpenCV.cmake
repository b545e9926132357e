# OpenCV core/imgproc/imgcodecs as targets opencv_core, opencv_imgproc,
# opencv_imgcodecs. Uses OpenCVConfig.cmake when there is one (Windows,
# official builds, Debian's full libopencv-dev); Debian's per-module -dev
# packages ship no CMake config, so fall back to finding the files.
find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs)
if(OpenCV_FOUND)
  message(STATUS "OpenCV ${OpenCV_VERSION} (config package)")
  return()
endif()
find_path(AUTOGLM_OPENCV_INCLUDE opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
foreach(mod core imgproc imgcodecs)
  find_library(AUTOGLM_OPENCV_${mod} NAMES opencv_${mod} opencv_${mod}4 REQUIRED)
  add_library(opencv_${mod} UNKNOWN IMPORTED)
  set_target_properties(opencv_${mod} PROPERTIES
    IMPORTED_LOCATION "${AUTOGLM_OPENCV_${mod}}"
    INTERFACE_INCLUDE_DIRECTORIES "${AUTOGLM_OPENCV_INCLUDE}")
endforeach()
set_property(TARGET opencv_imgproc PROPERTY INTERFACE_LINK_LIBRARIES opencv_core)
set_property(TARGET opencv_imgcodecs PROPERTY INTERFACE_LINK_LIBRARIES opencv_imgproc opencv_core)
message(STATUS "OpenCV: ${AUTOGLM_OPENCV_INCLUDE} (module libraries)")
