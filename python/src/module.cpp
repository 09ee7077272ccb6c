// The dlcore._C module: a switchboard that calls each area's init function.
#include "bind.h"

PYBIND11_MODULE(_C, m) {
  using namespace dlcore;
  m.doc() = "dlcore's native core";
  py::register_exception<Error>(m, "DlcoreError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const RuntimeError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });
  // Choose the kernel set now, so a bad DLCORE_ISA fails the import clearly.
  active_isa();

  py::class_<Tensor> cls(m, "Tensor");
  python::init_runtime(m);
  python::init_tensor(m, cls);
  python::init_ops(m, cls);
  python::init_autograd(m, cls);
  python::init_interop(m, cls);
  python::init_nn(m);
}
