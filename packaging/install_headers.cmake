# Run by `cmake --install` (packaging/CMakeLists.txt): installs kiln's C++ headers under
# PREFIX/KILN_HEADER_DESTINATION in the source tree's layout, so that their includes
# ("ir/function.h") resolve there. Left out are the headers a consumer could not compile with
# what the package ships, and those that are not API:
#   - those that include LLVM's, Vulkan's or SPIR-V's headers (the backends' insides; libkiln
#     links those libraries privately and no API header names their types),
#   - those named *_internal.h,
#   - and every header that includes a header left out.
# Decided when installing, not when configuring, so that a header that starts including LLVM
# is never shipped by a stale configure.
# Input: KILN_SOURCE_DIR, KILN_HEADER_FOLDERS (relative to it), KILN_HEADER_DESTINATION.

# Install scripts run with no policies set (IN_LIST needs one); include() scopes this.
cmake_policy(VERSION 3.25)

set(headers)
foreach(folder IN LISTS KILN_HEADER_FOLDERS)
  file(GLOB found RELATIVE "${KILN_SOURCE_DIR}" "${KILN_SOURCE_DIR}/${folder}/*.h")
  list(APPEND headers ${found})
endforeach()

set(left_out)
foreach(header IN LISTS headers)
  set(includes_${header})
  if(header MATCHES "_internal\\.h$")
    list(APPEND left_out ${header})
  endif()
  file(STRINGS "${KILN_SOURCE_DIR}/${header}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  foreach(line IN LISTS lines)
    if(line MATCHES "include[ \t]*<(llvm|vulkan|spirv)/")
      list(APPEND left_out ${header})
    elseif(line MATCHES "include[ \t]*\"([^\"]+)\"")
      list(APPEND includes_${header} ${CMAKE_MATCH_1})
    endif()
  endforeach()
endforeach()

set(grew TRUE)
while(grew)
  set(grew FALSE)
  foreach(header IN LISTS headers)
    if(header IN_LIST left_out)
      continue()
    endif()
    foreach(included IN LISTS includes_${header})
      if(included IN_LIST left_out)
        list(APPEND left_out ${header})
        set(grew TRUE)
        break()
      endif()
    endforeach()
  endforeach()
endwhile()

if(IS_ABSOLUTE "${KILN_HEADER_DESTINATION}")
  set(destination "${KILN_HEADER_DESTINATION}")
else()
  set(destination "${CMAKE_INSTALL_PREFIX}/${KILN_HEADER_DESTINATION}")
endif()
foreach(header IN LISTS headers)
  if(NOT header IN_LIST left_out)
    get_filename_component(folder "${header}" DIRECTORY)
    file(INSTALL "${KILN_SOURCE_DIR}/${header}" DESTINATION "${destination}/${folder}")
  endif()
endforeach()
