#!/bin/sh
# The environment is made by postinst, so dpkg does not know its files: remove it here.
# Teachers' journal data lives in their home folders and is never touched.
set -e
if [ "$1" = "remove" ] || [ "$1" = "purge" ]; then
    rm -rf /opt/zhurnal/venv /opt/zhurnal/venv.new /opt/zhurnal/venv.old
fi
exit 0
