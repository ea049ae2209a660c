/* SPDX-License-Identifier: ISC */
/*
 * image.h: decoding of untrusted JPEG and PNG data into 8-bit RGB, and the
 * torchvision eval preprocessing (Resize, CenterCrop, ToTensor, Normalize)
 * reproduced to match Pillow's arithmetic.
 *
 * Decoding rules (chosen to match what PIL.Image.open(f).convert("RGB")
 * gives torchvision): grayscale is replicated to RGB; alpha is dropped (not
 * composited); 16-bit PNG channels are reduced to their high byte; palette
 * PNGs are expanded; CMYK/YCCK JPEGs are converted the way Pillow converts
 * CMYK to RGB; EXIF orientation is ignored, as Pillow's open() ignores it.
 * Whatever cannot be handled that way is refused with AG_ERR_UNSUPPORTED
 * and a message saying what it is.  That includes 16-bit grayscale PNGs:
 * Pillow opens them as 32-bit integer images and clips them to 255 when
 * converting to RGB, which is nothing worth reproducing.
 *
 * Damaged data is refused rather than repaired: any libjpeg warning
 * (truncation, corrupt entropy data, extraneous bytes) and any PNG that
 * ends before IEND fail with AG_ERR_IMAGE or AG_ERR_TRUNCATED.  Pillow
 * is more lenient with a PNG that lacks only its last chunk.
 */
#ifndef AG_IMAGE_H
#define AG_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAX_SIDE_DEFAULT		8192
#define IMAGE_MAX_PIXELS_DEFAULT	(40u * 1000 * 1000)

/* An 8-bit RGB image, rows top to bottom, (h, w, 3) interleaved. */
struct image {
	uint32_t	 im_w, im_h;
	uint8_t		*im_px;		/* owned; free with image_free() */
};

struct image_limits {
	uint32_t	 max_side;	/* per side, in pixels */
	uint64_t	 max_pixels;	/* w * h */
};

/* Fills lim with the defaults above. */
void	image_limits_default(struct image_limits *lim);

/*
 * Decodes buf[0..len) (JPEG or PNG, told apart by signature).  Dimensions
 * are read from the header and checked against lim before any pixel is
 * decoded (AG_ERR_TOO_LARGE).  On success out holds a new image; on failure
 * out is zeroed and err says what is wrong (without the file name: the
 * caller adds it).  lim may be NULL for the defaults.
 */
int	image_decode(const uint8_t *buf, size_t len,
	    const struct image_limits *lim, struct image *out, char *err,
	    size_t errlen);

/* Reads and decodes the file at path; err names the file. */
int	image_decode_file(const char *path, const struct image_limits *lim,
	    struct image *out, char *err, size_t errlen);

/* Frees im's pixels and zeroes it; safe on a zeroed image. */
void	image_free(struct image *im);

/*
 * torchvision's Resize(resize) (shorter side to resize, the other side
 * int(resize * long / short)) with Pillow's antialiased bilinear filter in
 * Pillow's fixed-point 8-bit arithmetic, then CenterCrop(crop_h, crop_w)
 * with torchvision's rounding (zero padding when the image is smaller).
 * out is (crop_h, crop_w, 3) uint8, caller-allocated.  Only the cropped
 * pixels are computed, bit-identical to resizing everything first.
 * resize must be in [1, 65536] and the crop sides in [1, 4096], else
 * AG_ERR_INVALID_ARG.  Scratch memory is allocated and freed inside.
 */
int	image_resize_crop(const struct image *in, int resize, int crop_w,
	    int crop_h, uint8_t *out, char *err, size_t errlen);

/*
 * ToTensor + Normalize: out (3, h, w) float = (px / 255 - mean[c]) / std[c],
 * from px (h, w, 3) uint8.
 */
void	image_to_tensor(const uint8_t *px, int w, int h, const float mean[3],
	    const float std[3], float *out);

#endif /* AG_IMAGE_H */
