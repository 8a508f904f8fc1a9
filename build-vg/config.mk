# written by scripts/deps.sh
DEP_CFLAGS = -I/usr/include/x86_64-linux-gnu/openblas-pthread/ -isystem /usr/include/mit-krb5 -I/usr/include/pgm-5.3 -I/usr/include/libxml2 -I/usr/include/libpng16 
DEP_LIBS = -L/usr/lib/x86_64-linux-gnu/openblas-pthread/ -lopenblas -lzmq -lmsgpackc -lpng16  -lgif -lpthread -lm
CHECK_CFLAGS = -pthread 
CHECK_LIBS = -lcheck_pic -lrt -lm -lsubunit 
PC_REQUIRES = openblas libzmq msgpack libpng
