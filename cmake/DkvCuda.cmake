# CUDA kernels are optional: ON requires nvcc, AUTO enables them when nvcc is found.
# Without CUDA, src/cuda/no_cuda.cpp provides launchers that throw "built without CUDA".
include(CheckLanguage)
set(DKV_CUDA_ENABLED OFF)
if(NOT DKV_WITH_CUDA STREQUAL "OFF")
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)  # A100, H100/H200; override on the command line
    endif()
    # LibTorch 2.x puts cxx_std_20 on its target, which CMake 3.25 cannot pass to nvcc; the
    # kernels are C++17.
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(DKV_CUDA_ENABLED ON)
  elseif(DKV_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "DKV_WITH_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER)")
  endif()
endif()

# LibTorch with CUDA is needed to run kernels on tensors; CPU-only LibTorch (Debian's) still
# lets the raw-pointer kernels and their standalone tests compile and link.
set(DKV_TORCH_HAS_CUDA OFF)
if(DKV_CUDA_ENABLED AND (TARGET torch_cuda OR TORCH_CUDA_LIBRARIES))
  set(DKV_TORCH_HAS_CUDA ON)
endif()

if(DKV_TORCH_HAS_CUDA)
  file(GLOB DKV_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/cuda/*.cu
       ${CMAKE_SOURCE_DIR}/src/cuda/launch_*.cpp)
else()
  set(DKV_CUDA_SOURCES ${CMAKE_SOURCE_DIR}/src/cuda/no_cuda.cpp)
endif()

function(dkv_configure_cuda target)
  if(DKV_TORCH_HAS_CUDA)
    target_compile_definitions(${target} PUBLIC DKV_HAS_CUDA=1)
    target_link_libraries(${target} PUBLIC CUDA::cudart)
  endif()
endfunction()
message(STATUS "dkv: CUDA compiler ${DKV_CUDA_ENABLED}, LibTorch with CUDA ${DKV_TORCH_HAS_CUDA}")
