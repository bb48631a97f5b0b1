// unknown_import: imports a function no host provides, to test the load-time diagnostic.
int thing(int) __attribute__((import_module("nowhere"), import_name("thing")));
int main(void) { return thing(1); }
