/* SPDX-License-Identifier: ISC */
/* version.h: the release of aiguard and aiguardd. */
#ifndef AG_VERSION_H
#define AG_VERSION_H

#define AIGUARD_VERSION	"0.1.0"

#endif /* AG_VERSION_H */
