/*
 * hcode.c - the table of every İYS error code (H-code) izin uses, with the
 * HTTP status İYS answers it with, İYS's Turkish message and an English
 * translation, followed by izin's own IZ-codes for failures İYS has no code
 * for (a missing API key, an oversized body, a server not yet ready).
 *
 * Statuses and Turkish messages are copied from İYS's error table
 * (reference/iys-error-codes.md) word for word, İYS's own slips included
 * ("limitinine" in H083), because clients compare them with what İYS sends.
 * Some codes are not in that table and come from the examples of İYS's API
 * specification instead: H001, H018 (404), H506, H507, H530, H531 (422) and
 * H520 (403). Every code the source uses is here: test_hcode reads src/ and
 * fails on a code this table lacks.
 * Where İYS's message holds a template ("Marka:{{brandCode}} bulunamadı.")
 * the table keeps the sentence without the placeholder.
 *
 * The table is sorted by code (strcmp order) and searched by bisection; a
 * unit test checks the order.
 */
#include "core/hcode.h"

#include <stdlib.h>
#include <string.h>

#include "core/iz.h"

static const iz_hcode_t table[] = {
    {"H001", 404, "Hizmet sağlayıcı bulunamadı.", "Service provider not found."},
    {"H014", 400, "Gönderilen istek JSON formatına uygun olmalıdır.",
     "The request body must be valid JSON."},
    {"H015", 500, "Beklenmedik bir hata oluştu.", "An unexpected error occurred."},
    {"H018", 404, "Marka bulunamadı.", "Brand not found."},
    {"H083", 429,
     "Saniyede kabul edilen istek limitinine ulaşıldı. Lütfen daha sonra tekrar deneyiniz.",
     "The per-second request limit was reached. Please try again later."},
    {"H084", 429,
     "Saatte kabul edilen kimlik doğrulama istek limitine ulaşıldı. Lütfen daha sonra tekrar "
     "deneyiniz.",
     "The hourly limit of authentication requests was reached. Please try again later."},
    {"H085", 400, "İzin ekleme isteği geçerli olmalıdır.",
     "The consent add request must be valid."},
    {"H086", 429,
     "Saatte kabul edilen tekil izin durumu sorgulama istek limitine ulaşıldı. Lütfen daha "
     "sonra tekrar deneyiniz.",
     "The hourly limit of single consent status queries was reached. Please try again later."},
    {"H089", 429,
     "Saatte kabul edilen izin geçmişi listeleme istek limitine ulaşıldı. Lütfen daha sonra "
     "tekrar deneyiniz.",
     "The hourly limit of consent history requests was reached. Please try again later."},
    {"H091", 422, "İzin ekleme sayısı en fazla 1000 olmalıdır.",
     "At most 1000 consents may be added."},
    {"H092", 400, "Çoklu izin ekleme isteği geçerli olmalıdır.",
     "The bulk consent add request must be valid."},
    {"H093", 422, "transactionId bulunamadı.", "transactionId not found."},
    {"H097", 400, "İzin sorgulama isteği geçerli olmalıdır.",
     "The consent query request must be valid."},
    {"H110", 422, "Durum (status) bulunamadı.", "The status field is missing."},
    {"H111", 422, "İzin tipi (type) bulunamadı.", "The consent type field is missing."},
    {"H112", 422, "İzin tarihi (consentDate) bulunamadı.", "The consentDate field is missing."},
    {"H113", 422, "İzin kaynağı (source) bulunamadı.", "The source field is missing."},
    {"H114", 422, "Alıcı (recipient) bulunamadı.", "The recipient field is missing."},
    {"H115", 422, "Durum (status) için uygun değerler: ONAY, RET",
     "Valid values for status: ONAY, RET"},
    {"H116", 422, "Alıcı tipi (recipientType) için uygun değerler: BIREYSEL, TACIR",
     "Valid values for recipientType: BIREYSEL, TACIR"},
    {"H117", 422, "İzin tipi (type) için uygun değerler: ARAMA, MESAJ, EPOSTA",
     "Valid values for type: ARAMA, MESAJ, EPOSTA"},
    {"H118", 422,
     "Alan değeri kabul edilemedi. İstek gövdesinde bulunabilecek değerler: recipientType, "
     "retailerAccess, recipient, retailerCode, source, type, consentDate, status olmalıdır.",
     "Field not accepted. The request body may contain only: recipientType, retailerAccess, "
     "recipient, retailerCode, source, type, consentDate, status."},
    {"H119", 422,
     "İzin kaynağı (source) için uygun değerler: HS_FIZIKSEL_ORTAM, HS_ISLAK_IMZA, HS_WEB, "
     "HS_CAGRI_MERKEZI, HS_SOSYAL_MEDYA, HS_EPOSTA, HS_MESAJ, HS_MOBIL, HS_EORTAM, "
     "HS_ETKINLIK, HS_2015, HS_ATM, HS_KARAR",
     "Valid values for source: HS_FIZIKSEL_ORTAM, HS_ISLAK_IMZA, HS_WEB, HS_CAGRI_MERKEZI, "
     "HS_SOSYAL_MEDYA, HS_EPOSTA, HS_MESAJ, HS_MOBIL, HS_EORTAM, HS_ETKINLIK, HS_2015, "
     "HS_ATM, HS_KARAR"},
    {"H120", 422, "Alıcı (recipient) kabul edilemedi. Geçerli bir eposta adresi giriniz.",
     "Recipient not accepted. Enter a valid e-mail address."},
    {"H121", 422,
     "Alıcı (recipient) için E164 uluslararası([+][country code][area code][local phone "
     "number]) formatına uygun bir telefon numarası girilmelidir. (örn. +905992000000)",
     "The recipient must be a phone number in the international E.164 format ([+][country "
     "code][area code][local phone number]), e.g. +905992000000."},
    {"H122", 422,
     "Alıcı (recipient) için E164 uluslararası ([+][country code][area code][local phone "
     "number]) formatına uygun bir telefon numarası (örn. +905992000000) ya da geçerli bir "
     "e-posta adresi girilmelidir.",
     "The recipient must be a phone number in the international E.164 format ([+][country "
     "code][area code][local phone number], e.g. +905992000000) or a valid e-mail address."},
    {"H124", 429,
     "Saniyede kabul edilen istek limitine ulaşıldı. Lütfen daha sonra tekrar deneyiniz.",
     "The per-second request limit was reached. Please try again later."},
    {"H125", 422, "Tek seferde eklenecek izin sayısı en fazla 1000 olmalıdır.",
     "At most 1000 consents may be added at once."},
    {"H127", 422, "Alıcı listesi (recipients) uzunluğu en fazla 100 olmalıdır.",
     "The recipients list may hold at most 100 recipients."},
    {"H155", 422,
     "İzin kaynağı “1 Mayıs 2015 öncesi” olan izinler için, izin tarihi sadece 2015-05-01 "
     "00:00:00 olabilir.",
     "For consents whose source is \"before 1 May 2015\" (HS_2015) the consent date can only "
     "be 2015-05-01 00:00:00."},
    {"H156", 422, "İzinler için 1 Mayıs 2015’den önceki tarihler kabul edilmemektedir.",
     "Consent dates before 1 May 2015 are not accepted."},
    {"H157", 422, "Geçerli bir tarih girilmelidir.", "A valid date must be given."},
    {"H158", 422, "İzin tarihi yyyy-mm-dd hh:mm:ss formatında olmalıdır.",
     "The consent date must be in the format yyyy-mm-dd hh:mm:ss."},
    {"H160", 422, "Alıcı için telefon numaraları 15 karakterden uzun olmamalıdır.",
     "A recipient phone number must not be longer than 15 characters."},
    {"H162", 422, "Mevcut tarih ve saatten ileri bir tarih ve saat girilmemelidir.",
     "The date and time must not be later than the current date and time."},
    {"H164", 422, "Alıcı listesi (recipients) kabul edilemedi. Liste boş olmamalıdır.",
     "The recipients list was not accepted. The list must not be empty."},
    {"H166", 422,
     "Alıcı (recipient) kabul edilemedi. Telefon numaraları 15 karakterden uzun olamaz.",
     "Recipient not accepted. Phone numbers cannot be longer than 15 characters."},
    {"H168", 422, "Alıcı listesi (recipients) bulunamadı.", "The recipients list is missing."},
    {"H170", 422, "Alıcı tipi (recipientType) bulunamadı.", "The recipientType field is missing."},
    {"H174", 400,
     "İzin durumu (status) güncellemesi için farklı bir durum girilmelidir. İzin durumu: ONAY / "
     "RET",
     "A status update must give a different status. Consent status: ONAY / RET"},
    {"H175", 400, "İlk defa kaydedilen bir iznin durum (status) bilgisi RET olmamalıdır.",
     "The status of a consent recorded for the first time must not be RET."},
    {"H178", 400, "Sistemdeki iznin tarihinden önceki tarihli izinlerle güncelleme yapılamaz.",
     "A consent cannot be updated with a change dated before the recorded consent's date."},
    {"H182", 422, "offset değeri geçerli olmalıdır.", "The offset value must be valid."},
    {"H183", 422, "limit değeri geçerli olmalıdır.", "The limit value must be valid."},
    {"H186", 422, "Sayfalama (pagination) değeri en fazla 100 olabilir.",
     "The pagination value can be at most 100."},
    {"H187", 422, "limit değerleri sıfır olmamalıdır.", "The limit must not be zero."},
    {"H190", 422, "iysCode integer bir değer olmalıdır.", "iysCode must be an integer."},
    {"H191", 422, "brandCode integer bir değer olmalıdır.", "brandCode must be an integer."},
    {"H192", 503, "İstek zaman aşımına uğradı.", "The request timed out."},
    {"H193", 422, "Bayi İYS numarası ve alıcı değeri liste içinde tekrarlanamaz.",
     "A retailer İYS number and recipient may not repeat within the list."},
    {"H194", 422,
     "İzin listede daha önce tanımlandı. Liste içinde izinler alıcı tipi (recipientType), tip "
     "(type) ve alıcı (recipient) değerleri için tekrarlanamaz.",
     "The consent is already in the list. Within a list, consents may not repeat the same "
     "recipientType, type and recipient."},
    {"H198", 422, "requestId 36 karakterden daha uzun olamaz.",
     "requestId cannot be longer than 36 characters."},
    {"H199", 422, "requestId sadece harflerden meydana gelemez.",
     "requestId cannot consist of letters only."},
    {"H351", 401, "Eksik veya geçersiz jeton!", "Missing or invalid token!"},
    {"H353", 403, "Alan, kullanıcı izinleriyle eşleştirilemiyor",
     "The field does not match the user's permissions."},
    {"H400", 422, "requestId sadece sayılardan meydana gelemez.",
     "requestId cannot consist of digits only."},
    {"H408", 422, "HS_KARAR kaynağından iletilen izinler için durum bilgisi RET olmalıdır.",
     "Consents sent with the source HS_KARAR must have the status RET."},
    {"H462", 400, "TACIR izinleri güncellenirken izin tarihi (consentDate) verilmelidir",
     "A consentDate must be given when updating a TACIR consent."},
    {"H463", 400, "TACIR izinleri güncellenirken izin kaynağı (source) verilmelidir.",
     "A source must be given when updating a TACIR consent."},
    {"H464", 422, "İzin tipi (type) MESAJ için, alıcı (recipient) telefon formatında olmalıdır.",
     "The recipient does not match the consent type: for MESAJ the recipient must be a phone "
     "number."},
    {"H467", 422, "Üç iş günü öncesinde alınan izinler kaydedilemez.",
     "Consents obtained more than three business days ago cannot be recorded."},
    {"H478", 422, "Alıcı listesi (recipients) liste olmalıdır.",
     "The recipients field must be a list."},
    {"H486", 400,
     "İzin kaynağı (source) kabul edilemedi. İzin verilen değerler: HS_FIZIKSEL_ORTAM, "
     "HS_ISLAK_IMZA, HS_WEB, HS_CAGRI_MERKEZI, HS_SOSYAL_MEDYA, HS_EPOSTA, HS_MESAJ, HS_MOBIL, "
     "HS_EORTAM, HS_ETKINLIK, HS_2015, HS_ATM",
     "Source not accepted. Allowed values: HS_FIZIKSEL_ORTAM, HS_ISLAK_IMZA, HS_WEB, "
     "HS_CAGRI_MERKEZI, HS_SOSYAL_MEDYA, HS_EPOSTA, HS_MESAJ, HS_MOBIL, HS_EORTAM, "
     "HS_ETKINLIK, HS_2015, HS_ATM"},
    {"H506", 422, "İzin kaynağı (source) bulunamadı.",
     "Source not recognized: the source parameter must be HS or IYS."},
    {"H507", 422, "limit alanı için karakter üst sınırı 1000 olmalıdır.",
     "The limit can be at most 1000."},
    {"H520", 403, "Abonelik durumu PAUSED veya EXPIRED iken api kullanılamamaktadır.",
     "The API cannot be used while the subscription is PAUSED or EXPIRED."},
    {"H521", 403, "Abonelik durumu CLOSED iken api kullanılamamaktadır.",
     "The API cannot be used while the subscription is CLOSED."},
    {"H524", 403, "Hizmet sağlayıcıya ait abonelik kaydı bulunamadı.",
     "No subscription record was found for the service provider."},
    {"H525", 422,
     "Kullanılan izin sayısı maksimum sayıya ulaştığı için yeni izin eklenememektedir.",
     "No new consent can be added because the consent quota is full."},
    {"H530", 422, "Bağlantı oluşturulamadı.", "The connection could not be created."},
    {"H531", 422, "Bağlantı linki (url) https ile başlamalıdır.",
     "The connection link (url) must start with https."},
    /* izin's own codes, for failures of izin's API that İYS has no code for */
    {"IZ400", 400, "İstek geçersiz.", "Malformed request."},
    {"IZ401", 401, "API anahtarı eksik veya geçersiz.", "Missing or invalid API key."},
    {"IZ404", 404, "Kayıt bulunamadı.", "Not found."},
    {"IZ405", 405, "Bu kaynak için HTTP yöntemi desteklenmiyor.",
     "Method not allowed for this resource."},
    {"IZ409", 409, "Bu değer zaten kullanılıyor.", "This value is already in use."},
    {"IZ413", 413, "İstek gövdesi izin verilen boyuttan büyük.", "Request body too large."},
    {"IZ415", 415, "Desteklenmeyen içerik türü.", "Unsupported content type."},
    {"IZ422", 422, "Alan değeri geçersiz.", "A field has an invalid value."},
    {"IZ429", 429, "Çok fazla istek gönderildi. Lütfen daha sonra tekrar deneyiniz.",
     "Too many requests. Please try again later."},
    {"IZ500", 500, "Beklenmedik bir hata oluştu.", "Internal error."},
    {"IZ503", 503, "Hizmet henüz hazır değil. Lütfen daha sonra tekrar deneyiniz.",
     "Service not ready yet. Please try again later."},
};

static int cmp_code(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const iz_hcode_t *)elem)->code);
}

const iz_hcode_t *iz_hcode(const char *code)
{
    if (!code) return NULL;
    return bsearch(code, table, IZ_ARRAY_LEN(table), sizeof(table[0]), cmp_code);
}

int iz_hcode_http(const char *code)
{
    const iz_hcode_t *h = iz_hcode(code);
    /* Every code the source uses is in the table (a unit test reads src/
     * for them); an unknown one is a programming error and answers as one. */
    return h ? h->http : 500;
}

const iz_hcode_t *iz_hcode_table(size_t *n)
{
    if (n) *n = IZ_ARRAY_LEN(table);
    return table;
}
